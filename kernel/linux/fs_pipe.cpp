// Descriptors for kernel objects: pipe(2)/pipe2, eventfd(2)/eventfd2 and
// timerfd_create(2)/settime/gettime. The objects live in fs/pipe.h,
// fs/eventfd.h and linux/timerfd.h; blocking is the file layer's
// (fs_common.h).
#include <linux/fcntl.h>

#include "fs/eventfd.h"
#include "fs/pipe.h"
#include "kiln/format.h"
#include "linux/clocks.h"
#include "linux/fs_common.h"
#include "linux/timerfd.h"
#include "linux/user.h"

namespace kiln::sys {
namespace {

using fs::File;

int fd_arg(uint64_t v) {
    return static_cast<int>(static_cast<int32_t>(v));
}

// Installs a fresh inode (its one reference moves to the File) as a new
// descriptor with flags (O_ACCMODE | O_NONBLOCK) and close-on-exec.
Result<int> install_inode(fs::Inode* in, uint32_t flags, bool cloexec, const char* path) {
    File* f = File::make(in, flags, path);
    if (f == nullptr) {
        in->release();
        return Error(Errno::kENOMEM);
    }
    auto fd = fs::fd_table().install(f, cloexec);
    f->release();
    return fd;
}

int64_t do_pipe2(uint64_t ufds, uint32_t flags) {
    if (flags & ~static_cast<uint32_t>(O_NONBLOCK | O_CLOEXEC | O_DIRECT))
        return errno_result(Errno::kEINVAL);
    fs::PipeEnds ends = TRY_SYS(fs::make_pipe());
    const uint32_t nb = flags & O_NONBLOCK;
    const bool cloexec = flags & O_CLOEXEC;
    char name[32];  // what /proc/self/fd shows, as on Linux
    format(name, sizeof name, "pipe:[%lu]", static_cast<unsigned long>(ends.read_end->meta.ino));
    auto rfd = install_inode(ends.read_end, O_RDONLY | nb, cloexec, name);
    if (!rfd.ok()) {
        ends.write_end->release();
        return errno_result(rfd.error());
    }
    auto wfd = install_inode(ends.write_end, O_WRONLY | nb, cloexec, name);
    if (!wfd.ok()) {
        (void)fs::fd_table().close(*rfd);
        return errno_result(wfd.error());
    }
    int32_t fds[2] = {*rfd, *wfd};
    if (auto c = copy_to_user(ufds, fds, sizeof(fds)); !c.ok()) {
        (void)fs::fd_table().close(*rfd);
        (void)fs::fd_table().close(*wfd);
        return errno_result(c.error());
    }
    return 0;
}

int64_t sys_pipe(const SyscallArgs& a) {
    return do_pipe2(a.arg[0], 0);
}
int64_t sys_pipe2(const SyscallArgs& a) {
    return do_pipe2(a.arg[0], static_cast<uint32_t>(a.arg[1]));
}

constexpr uint32_t kEfdSemaphore = 1;

int64_t do_eventfd(uint64_t initval, uint32_t flags) {
    if (flags & ~static_cast<uint32_t>(kEfdSemaphore | O_NONBLOCK | O_CLOEXEC))
        return errno_result(Errno::kEINVAL);
    fs::Inode* in = fs::make_eventfd(static_cast<uint32_t>(initval), flags & kEfdSemaphore);
    if (in == nullptr) return errno_result(Errno::kENOMEM);
    return to_syscall_result(install_inode(in, O_RDWR | (flags & O_NONBLOCK), flags & O_CLOEXEC,
                                           "anon_inode:[eventfd]"));
}

int64_t sys_eventfd(const SyscallArgs& a) {
    return do_eventfd(a.arg[0], 0);
}
int64_t sys_eventfd2(const SyscallArgs& a) {
    return do_eventfd(a.arg[0], static_cast<uint32_t>(a.arg[1]));
}

constexpr uint32_t kTfdTimerAbstime = 1;
constexpr uint32_t kTfdTimerCancelOnSet = 2;

int64_t sys_timerfd_create(const SyscallArgs& a) {
    const int clock = static_cast<int>(static_cast<int32_t>(a.arg[0]));
    const uint32_t flags = static_cast<uint32_t>(a.arg[1]);
    if (flags & ~static_cast<uint32_t>(O_NONBLOCK | O_CLOEXEC)) return errno_result(Errno::kEINVAL);
    if (clock != kClockRealtime && clock != kClockMonotonic && clock != kClockBoottime)
        return errno_result(Errno::kEINVAL);
    fs::Inode* in = make_timerfd(clock);
    if (in == nullptr) return errno_result(Errno::kENOMEM);
    return to_syscall_result(install_inode(in, O_RDWR | (flags & O_NONBLOCK), flags & O_CLOEXEC,
                                           "anon_inode:[timerfd]"));
}

int64_t sys_timerfd_settime(const SyscallArgs& a) {
    File* f = TRY_SYS(fs::file_of_fd(fd_arg(a.arg[0])));
    const uint32_t flags = static_cast<uint32_t>(a.arg[1]);
    if (flags & ~(kTfdTimerAbstime | kTfdTimerCancelOnSet)) return errno_result(Errno::kEINVAL);
    auto v = TRY_SYS(read_user<KernelItimerspec>(a.arg[2]));
    auto old = TRY_SYS(timerfd_settime(f->inode(), flags & kTfdTimerAbstime, v));
    if (a.arg[3] != 0) return to_syscall_result(write_user(a.arg[3], old));
    return 0;
}

int64_t sys_timerfd_gettime(const SyscallArgs& a) {
    File* f = TRY_SYS(fs::file_of_fd(fd_arg(a.arg[0])));
    auto v = TRY_SYS(timerfd_gettime(f->inode()));
    return to_syscall_result(write_user(a.arg[1], v));
}

}  // namespace

// clang-format off
const SyscallDef kFsPipe[] = {
    {__NR_pipe, "pipe", sys_pipe, {Arg::kPtr}},
    {__NR_pipe2, "pipe2", sys_pipe2, {Arg::kPtr, Arg::kOpenFlags}},
    {__NR_eventfd, "eventfd", sys_eventfd, {Arg::kUInt}},
    {__NR_eventfd2, "eventfd2", sys_eventfd2, {Arg::kUInt, Arg::kHex}},
    {__NR_timerfd_create, "timerfd_create", sys_timerfd_create, {Arg::kInt, Arg::kHex}},
    {__NR_timerfd_settime, "timerfd_settime", sys_timerfd_settime, {Arg::kFd, Arg::kHex, Arg::kPtr, Arg::kPtr}},
    {__NR_timerfd_gettime, "timerfd_gettime", sys_timerfd_gettime, {Arg::kFd, Arg::kPtr}},
};
// clang-format on
extern const SyscallFamily kFsPipeFamily = {kFsPipe, sizeof(kFsPipe) / sizeof(kFsPipe[0])};

}  // namespace kiln::sys
