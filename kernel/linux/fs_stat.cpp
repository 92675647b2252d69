// stat(2) in its forms (stat, fstat, lstat, newfstatat, statx) and
// statfs(2). glibc 2.36 sends every stat through newfstatat.
#include <asm/stat.h>
#include <asm/statfs.h>
#include <linux/fcntl.h>
#include <linux/stat.h>

#include "fs/mode.h"
#include "linux/fs_common.h"
#include "linux/user.h"
#include "mm/memory.h"

namespace kiln::sys {
namespace {

int fd_arg(uint64_t v) { return static_cast<int>(static_cast<int32_t>(v)); }

constexpr uint64_t kDev = 0x1a;  // one device for the whole tree (minor 26, like a tmpfs)

uint64_t blocks_of(fs::Inode* n) {
    return n->type() == fs::InodeType::kRegular ? (n->size() + 511) / 512 : 0;
}

int64_t fill_stat(fs::Inode* n, uint64_t ubuf) {
    struct stat st;
    __builtin_memset(&st, 0, sizeof st);
    st.st_dev = kDev;
    st.st_ino = n->meta.ino;
    st.st_nlink = n->meta.nlink;
    st.st_mode = fs::full_mode(n);
    st.st_uid = n->meta.uid;
    st.st_gid = n->meta.gid;
    st.st_rdev = n->meta.rdev;
    st.st_size = static_cast<long>(n->size());
    st.st_blksize = 4096;
    st.st_blocks = static_cast<long>(blocks_of(n));
    st.st_atime = static_cast<unsigned long>(n->meta.atime_ns / 1000000000);
    st.st_atime_nsec = static_cast<unsigned long>(n->meta.atime_ns % 1000000000);
    st.st_mtime = static_cast<unsigned long>(n->meta.mtime_ns / 1000000000);
    st.st_mtime_nsec = static_cast<unsigned long>(n->meta.mtime_ns % 1000000000);
    st.st_ctime = static_cast<unsigned long>(n->meta.ctime_ns / 1000000000);
    st.st_ctime_nsec = static_cast<unsigned long>(n->meta.ctime_ns % 1000000000);
    n->release();
    return to_syscall_result(copy_to_user(ubuf, &st, sizeof st));
}

int64_t sys_stat(const SyscallArgs& a) { return fill_stat(TRY_SYS(lookup_at(kAtFdCwd, a.arg[0], true, false)), a.arg[1]); }
int64_t sys_lstat(const SyscallArgs& a) { return fill_stat(TRY_SYS(lookup_at(kAtFdCwd, a.arg[0], false, false)), a.arg[1]); }
int64_t sys_fstat(const SyscallArgs& a) { return fill_stat(TRY_SYS(fs::inode_of_fd(fd_arg(a.arg[0]))), a.arg[1]); }

int64_t sys_newfstatat(const SyscallArgs& a) {
    uint64_t flags = a.arg[3];
    if (flags & ~uint64_t{AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH | AT_NO_AUTOMOUNT})
        return errno_result(Errno::kEINVAL);
    fs::Inode* n = TRY_SYS(lookup_at(fd_arg(a.arg[0]), a.arg[1], !(flags & AT_SYMLINK_NOFOLLOW), flags & AT_EMPTY_PATH));
    return fill_stat(n, a.arg[2]);
}

void set_ts(struct statx_timestamp* t, int64_t ns) {
    t->tv_sec = ns / 1000000000;
    t->tv_nsec = static_cast<uint32_t>(ns % 1000000000);
}

int64_t sys_statx(const SyscallArgs& a) {
    uint64_t flags = a.arg[2];
    constexpr uint64_t kSync = AT_STATX_SYNC_TYPE;
    if (flags & ~uint64_t{AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH | AT_NO_AUTOMOUNT | kSync})
        return errno_result(Errno::kEINVAL);
    if ((flags & kSync) == kSync) return errno_result(Errno::kEINVAL);
    if (a.arg[3] & STATX__RESERVED) return errno_result(Errno::kEINVAL);
    fs::Inode* n = TRY_SYS(lookup_at(fd_arg(a.arg[0]), a.arg[1], !(flags & AT_SYMLINK_NOFOLLOW), flags & AT_EMPTY_PATH));
    struct statx sx;
    __builtin_memset(&sx, 0, sizeof sx);
    sx.stx_mask = STATX_BASIC_STATS;
    sx.stx_blksize = 4096;
    sx.stx_nlink = n->meta.nlink;
    sx.stx_uid = n->meta.uid;
    sx.stx_gid = n->meta.gid;
    sx.stx_mode = static_cast<uint16_t>(fs::full_mode(n));
    sx.stx_ino = n->meta.ino;
    sx.stx_size = n->size();
    sx.stx_blocks = blocks_of(n);
    set_ts(&sx.stx_atime, n->meta.atime_ns);
    set_ts(&sx.stx_mtime, n->meta.mtime_ns);
    set_ts(&sx.stx_ctime, n->meta.ctime_ns);
    sx.stx_rdev_major = n->meta.rdev >> 8;
    sx.stx_rdev_minor = n->meta.rdev & 0xff;
    sx.stx_dev_major = 0;
    sx.stx_dev_minor = kDev;
    n->release();
    return to_syscall_result(copy_to_user(a.arg[4], &sx, sizeof sx));
}

constexpr long kTmpfsMagic = 0x01021994;

int64_t fill_statfs(fs::Inode* n, uint64_t ubuf) {
    n->release();
    struct statfs s;
    __builtin_memset(&s, 0, sizeof s);
    auto& fa = mm::frames();
    s.f_type = kTmpfsMagic;
    s.f_bsize = 4096;
    s.f_blocks = static_cast<long>(fa.total_pages());
    s.f_bfree = static_cast<long>(fa.free_pages());
    s.f_bavail = static_cast<long>(fa.free_pages());
    s.f_files = 1 << 20;
    s.f_ffree = 1 << 20;
    s.f_namelen = 255;
    s.f_frsize = 4096;
    return to_syscall_result(copy_to_user(ubuf, &s, sizeof s));
}

int64_t sys_statfs(const SyscallArgs& a) { return fill_statfs(TRY_SYS(lookup_at(kAtFdCwd, a.arg[0], true, false)), a.arg[1]); }
int64_t sys_fstatfs(const SyscallArgs& a) { return fill_statfs(TRY_SYS(fs::inode_of_fd(fd_arg(a.arg[0]))), a.arg[1]); }

}  // namespace

const SyscallDef kFsStat[] = {
    {__NR_stat, "stat", sys_stat, {Arg::kPath, Arg::kPtr}},
    {__NR_lstat, "lstat", sys_lstat, {Arg::kPath, Arg::kPtr}},
    {__NR_fstat, "fstat", sys_fstat, {Arg::kFd, Arg::kPtr}},
    {__NR_newfstatat, "newfstatat", sys_newfstatat, {Arg::kFd, Arg::kPath, Arg::kPtr, Arg::kHex}},
    {__NR_statx, "statx", sys_statx, {Arg::kFd, Arg::kPath, Arg::kHex, Arg::kHex, Arg::kPtr}},
    {__NR_statfs, "statfs", sys_statfs, {Arg::kPath, Arg::kPtr}},
    {__NR_fstatfs, "fstatfs", sys_fstatfs, {Arg::kFd, Arg::kPtr}},
};
extern const SyscallFamily kFsStatFamily = {kFsStat, sizeof(kFsStat) / sizeof(kFsStat[0])};

}  // namespace kiln::sys
