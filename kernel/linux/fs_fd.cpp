// Descriptor system calls: open(2) and friends, close(2), close_range(2),
// dup(2), fcntl(2).
#include <linux/fcntl.h>

#include "fs/pipe.h"
#include "linux/fs_common.h"
#include "linux/user.h"
#include "sched/process.h"

namespace kiln::sys {
namespace {

using fs::File;

int fd_arg(uint64_t v) { return static_cast<int>(static_cast<int32_t>(v)); }

int64_t do_open(int dirfd, uint64_t upath, uint32_t flags, uint32_t mode) {
    UserPath path;
    TRY_SYS(path.copy_in(upath));
    fs::Inode* start = TRY_SYS(start_dir(dirfd, path.c_str()));
    uint32_t umask = sched::current().umask;
    File* f = TRY_SYS(fs::open_path(fs_ctx(), start, path.c_str(), flags, mode & ~umask & 07777));
    auto fd = fs::fd_table().install(f, flags & O_CLOEXEC);
    f->release();
    return to_syscall_result(fd);
}

int64_t sys_open(const SyscallArgs& a) {
    return do_open(kAtFdCwd, a.arg[0], static_cast<uint32_t>(a.arg[1]), static_cast<uint32_t>(a.arg[2]));
}
int64_t sys_openat(const SyscallArgs& a) {
    return do_open(fd_arg(a.arg[0]), a.arg[1], static_cast<uint32_t>(a.arg[2]),
                   static_cast<uint32_t>(a.arg[3]));
}
int64_t sys_creat(const SyscallArgs& a) {
    return do_open(kAtFdCwd, a.arg[0], O_CREAT | O_WRONLY | O_TRUNC, static_cast<uint32_t>(a.arg[1]));
}

int64_t sys_close(const SyscallArgs& a) {
    if (sched::current().files == nullptr) return errno_result(Errno::kEBADF);
    return to_syscall_result(fs::fd_table().close(fd_arg(a.arg[0])));
}

constexpr uint32_t kCloseRangeUnshare = 1u << 1;
constexpr uint32_t kCloseRangeCloexec = 1u << 2;

int64_t sys_close_range(const SyscallArgs& a) {
    uint32_t first = static_cast<uint32_t>(a.arg[0]), last = static_cast<uint32_t>(a.arg[1]);
    uint32_t flags = static_cast<uint32_t>(a.arg[2]);
    if (flags & ~(kCloseRangeUnshare | kCloseRangeCloexec)) return errno_result(Errno::kEINVAL);
    if (first > last) return errno_result(Errno::kEINVAL);
    if (sched::current().files == nullptr) return 0;
    fs::fd_table().close_range(first, last, flags & kCloseRangeCloexec);
    return 0;
}

int64_t sys_dup(const SyscallArgs& a) {
    File* f = TRY_SYS(fs::file_of_fd(fd_arg(a.arg[0])));
    return to_syscall_result(fs::fd_table().install(f, false));
}

int64_t dup_to(int oldfd, int newfd, bool cloexec) {
    File* f = TRY_SYS(fs::file_of_fd(oldfd));
    if (newfd < 0 || newfd >= fs::FdTable::kMaxFds) return errno_result(Errno::kEBADF);
    return to_syscall_result(fs::fd_table().install_at(newfd, f, cloexec));
}

int64_t sys_dup2(const SyscallArgs& a) {
    int oldfd = fd_arg(a.arg[0]), newfd = fd_arg(a.arg[1]);
    if (oldfd == newfd) {
        TRY_SYS(fs::file_of_fd(oldfd));
        return newfd;
    }
    return dup_to(oldfd, newfd, false);
}

int64_t sys_dup3(const SyscallArgs& a) {
    int oldfd = fd_arg(a.arg[0]), newfd = fd_arg(a.arg[1]);
    uint64_t flags = a.arg[2];
    if (flags & ~static_cast<uint64_t>(O_CLOEXEC)) return errno_result(Errno::kEINVAL);
    if (oldfd == newfd) return errno_result(Errno::kEINVAL);
    return dup_to(oldfd, newfd, flags & O_CLOEXEC);
}

// struct flock (asm-generic/fcntl.h): l_type is the first short.
constexpr size_t kFlockSize = 32;

Result<void> check_flock(uint64_t uaddr, bool report_unlocked) {
    uint8_t fl[kFlockSize];
    TRY(copy_from_user(fl, uaddr, sizeof fl));
    int16_t type;
    __builtin_memcpy(&type, fl, 2);
    if (type != F_RDLCK && type != F_WRLCK && type != F_UNLCK) return Error(Errno::kEINVAL);
    if (report_unlocked) {
        // One process holds every lock there is: nothing conflicts.
        int16_t unlocked = F_UNLCK;
        TRY(copy_to_user(uaddr, &unlocked, 2));
    }
    return {};
}

int64_t sys_fcntl(const SyscallArgs& a) {
    int fd = fd_arg(a.arg[0]);
    File* f = TRY_SYS(fs::file_of_fd(fd));
    int cmd = static_cast<int>(a.arg[1]);
    uint64_t arg = a.arg[2];
    switch (cmd) {
    case F_DUPFD:
    case F_DUPFD_CLOEXEC: {
        int min = static_cast<int>(static_cast<int32_t>(arg));
        if (min < 0 || min >= fs::FdTable::kMaxFds) return errno_result(Errno::kEINVAL);
        return to_syscall_result(fs::fd_table().install(f, cmd == F_DUPFD_CLOEXEC, min));
    }
    case F_GETFD: return TRY_SYS(fs::fd_table().cloexec(fd)) ? FD_CLOEXEC : 0;
    case F_SETFD: return to_syscall_result(fs::fd_table().set_cloexec(fd, arg & FD_CLOEXEC));
    case F_GETFL: return f->flags;
    case F_SETFL: {
        constexpr uint32_t kChangeable = O_APPEND | O_NONBLOCK | O_DIRECT | O_NOATIME | FASYNC;
        f->flags = (f->flags & ~kChangeable) | (static_cast<uint32_t>(arg) & kChangeable);
        return 0;
    }
    case F_GETLK:
    case F_OFD_GETLK: return to_syscall_result(check_flock(arg, true));
    case F_SETLK:
    case F_SETLKW:
    case F_OFD_SETLK:
    case F_OFD_SETLKW: return to_syscall_result(check_flock(arg, false));
    case F_GETOWN:
    case F_SETOWN: return 0;
    case F_GETPIPE_SZ:
    case F_SETPIPE_SZ:
        if (f->inode()->type() != fs::InodeType::kFifo) return errno_result(Errno::kEBADF);
        // FIXME: pipes keep Linux's default 64 KiB; growing them is refused.
        if (cmd == F_SETPIPE_SZ && arg > fs::kPipeCapacity) return errno_result(Errno::kEPERM);
        return static_cast<int64_t>(fs::kPipeCapacity);
    default: return errno_result(Errno::kEINVAL);
    }
}

}  // namespace

const SyscallDef kFsFd[] = {
    {__NR_open, "open", sys_open, {Arg::kPath, Arg::kOpenFlags, Arg::kHex}},
    {__NR_openat, "openat", sys_openat, {Arg::kFd, Arg::kPath, Arg::kOpenFlags, Arg::kHex}},
    {__NR_creat, "creat", sys_creat, {Arg::kPath, Arg::kHex}},
    {__NR_close, "close", sys_close, {Arg::kFd}},
    {__NR_close_range, "close_range", sys_close_range, {Arg::kUInt, Arg::kUInt, Arg::kHex}},
    {__NR_dup, "dup", sys_dup, {Arg::kFd}},
    {__NR_dup2, "dup2", sys_dup2, {Arg::kFd, Arg::kFd}},
    {__NR_dup3, "dup3", sys_dup3, {Arg::kFd, Arg::kFd, Arg::kHex}},
    {__NR_fcntl, "fcntl", sys_fcntl, {Arg::kFd, Arg::kInt, Arg::kHex}},
};
extern const SyscallFamily kFsFdFamily = {kFsFd, sizeof(kFsFd) / sizeof(kFsFd[0])};

}  // namespace kiln::sys
