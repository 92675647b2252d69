// Path system calls: mkdir(2), rmdir(2), unlink(2), rename(2), link(2),
// symlink(2), readlink(2), access(2), chdir(2), getcwd(2), umask(2),
// chmod(2), chown(2), utimensat(2), mknod(2) and the xattr stubs.
#include <linux/fcntl.h>

#include "arch/x86_64/clock.h"
#include "fs/mode.h"
#include "fs/ops.h"
#include "fs/tree.h"
#include "linux/fs_common.h"
#include "linux/user.h"
#include "mm/heap.h"
#include "sched/process.h"

namespace kiln::sys {
namespace {

using fs::File;

int fd_arg(uint64_t v) { return static_cast<int>(static_cast<int32_t>(v)); }

// A user path and the directory it starts from.
struct PathAt {
    UserPath path;
    fs::Inode* start = nullptr;
    Result<void> load(int dirfd, uint64_t upath) {
        TRY(path.copy_in(upath));
        if (path.empty()) return Error(Errno::kENOENT);
        start = TRY(start_dir(dirfd, path.c_str()));
        return {};
    }
};

uint32_t masked(uint64_t mode) { return static_cast<uint32_t>(mode) & ~sched::current().umask & 07777; }

int64_t do_mkdir(int dirfd, uint64_t upath, uint64_t mode) {
    PathAt p;
    TRY_SYS(p.load(dirfd, upath));
    return to_syscall_result(fs::make_directory(fs_ctx(), p.start, p.path.c_str(), masked(mode)));
}
int64_t sys_mkdir(const SyscallArgs& a) { return do_mkdir(kAtFdCwd, a.arg[0], a.arg[1]); }
int64_t sys_mkdirat(const SyscallArgs& a) { return do_mkdir(fd_arg(a.arg[0]), a.arg[1], a.arg[2]); }

int64_t do_mknod(int dirfd, uint64_t upath, uint64_t mode) {
    uint32_t type = static_cast<uint32_t>(mode) & fs::kIfMt;
    if (type != 0 && type != fs::kIfReg) {
        if (type == fs::kIfDir) return errno_result(Errno::kEPERM);
        // FIXME: fifos and device nodes; Linux lets root make them.
        return errno_result(Errno::kEPERM);
    }
    PathAt p;
    TRY_SYS(p.load(dirfd, upath));
    return to_syscall_result(fs::make_file(fs_ctx(), p.start, p.path.c_str(), masked(mode)));
}
int64_t sys_mknod(const SyscallArgs& a) { return do_mknod(kAtFdCwd, a.arg[0], a.arg[1]); }
int64_t sys_mknodat(const SyscallArgs& a) { return do_mknod(fd_arg(a.arg[0]), a.arg[1], a.arg[2]); }

int64_t do_unlink(int dirfd, uint64_t upath, bool dir) {
    PathAt p;
    TRY_SYS(p.load(dirfd, upath));
    return to_syscall_result(fs::remove_path(fs_ctx(), p.start, p.path.c_str(), dir));
}
int64_t sys_rmdir(const SyscallArgs& a) { return do_unlink(kAtFdCwd, a.arg[0], true); }
int64_t sys_unlink(const SyscallArgs& a) { return do_unlink(kAtFdCwd, a.arg[0], false); }
int64_t sys_unlinkat(const SyscallArgs& a) {
    if (a.arg[2] & ~static_cast<uint64_t>(AT_REMOVEDIR)) return errno_result(Errno::kEINVAL);
    return do_unlink(fd_arg(a.arg[0]), a.arg[1], a.arg[2] & AT_REMOVEDIR);
}

int64_t do_rename(int olddir, uint64_t oldp, int newdir, uint64_t newp, uint64_t flags) {
    if (flags & ~uint64_t{fs::kRenameNoReplace | fs::kRenameExchange | 4 /* RENAME_WHITEOUT */})
        return errno_result(Errno::kEINVAL);
    if (flags & 4) return errno_result(Errno::kEINVAL);
    PathAt from, to;
    TRY_SYS(from.load(olddir, oldp));
    TRY_SYS(to.load(newdir, newp));
    return to_syscall_result(fs::rename_path(fs_ctx(), from.start, from.path.c_str(), to.start,
                                             to.path.c_str(), static_cast<unsigned>(flags)));
}
int64_t sys_rename(const SyscallArgs& a) { return do_rename(kAtFdCwd, a.arg[0], kAtFdCwd, a.arg[1], 0); }
int64_t sys_renameat(const SyscallArgs& a) {
    return do_rename(fd_arg(a.arg[0]), a.arg[1], fd_arg(a.arg[2]), a.arg[3], 0);
}
int64_t sys_renameat2(const SyscallArgs& a) {
    return do_rename(fd_arg(a.arg[0]), a.arg[1], fd_arg(a.arg[2]), a.arg[3], a.arg[4]);
}

int64_t do_link(int olddir, uint64_t oldp, int newdir, uint64_t newp, uint64_t flags) {
    if (flags & ~uint64_t{AT_SYMLINK_FOLLOW | AT_EMPTY_PATH}) return errno_result(Errno::kEINVAL);
    PathAt from, to;
    TRY_SYS(from.load(olddir, oldp));
    TRY_SYS(to.load(newdir, newp));
    return to_syscall_result(fs::make_link(fs_ctx(), from.start, from.path.c_str(), to.start,
                                           to.path.c_str(), flags & AT_SYMLINK_FOLLOW));
}
int64_t sys_link(const SyscallArgs& a) { return do_link(kAtFdCwd, a.arg[0], kAtFdCwd, a.arg[1], 0); }
int64_t sys_linkat(const SyscallArgs& a) {
    return do_link(fd_arg(a.arg[0]), a.arg[1], fd_arg(a.arg[2]), a.arg[3], a.arg[4]);
}

int64_t do_symlink(uint64_t utarget, int dirfd, uint64_t upath) {
    UserPath target;
    TRY_SYS(target.copy_in(utarget));
    PathAt p;
    TRY_SYS(p.load(dirfd, upath));
    return to_syscall_result(fs::make_symlink(fs_ctx(), target.c_str(), p.start, p.path.c_str()));
}
int64_t sys_symlink(const SyscallArgs& a) { return do_symlink(a.arg[0], kAtFdCwd, a.arg[1]); }
int64_t sys_symlinkat(const SyscallArgs& a) { return do_symlink(a.arg[0], fd_arg(a.arg[1]), a.arg[2]); }

int64_t do_readlink(int dirfd, uint64_t upath, uint64_t ubuf, int64_t size) {
    if (size <= 0) return errno_result(Errno::kEINVAL);
    fs::Inode* n = TRY_SYS(lookup_at(dirfd, upath, false, true));
    char* buf = static_cast<char*>(mm::heap_alloc(fs::kPathMax, 1));
    int64_t result;
    if (buf == nullptr) {
        result = errno_result(Errno::kENOMEM);
    } else {
        auto len = n->read_link(buf, fs::kPathMax);
        if (!len.ok()) {
            result = errno_result(len.error());
        } else {
            size_t m = *len < static_cast<uint64_t>(size) ? *len : static_cast<size_t>(size);
            auto c = copy_to_user(ubuf, buf, m);
            result = c.ok() ? static_cast<int64_t>(m) : errno_result(c.error());
        }
    }
    mm::heap_free(buf);
    n->release();
    return result;
}
int64_t sys_readlink(const SyscallArgs& a) {
    return do_readlink(kAtFdCwd, a.arg[0], a.arg[1], static_cast<int64_t>(a.arg[2]));
}
int64_t sys_readlinkat(const SyscallArgs& a) {
    return do_readlink(fd_arg(a.arg[0]), a.arg[1], a.arg[2], static_cast<int64_t>(a.arg[3]));
}

constexpr uint64_t kXOk = 1, kWOk = 2, kROk = 4;

int64_t do_access(int dirfd, uint64_t upath, uint64_t mode, uint64_t flags) {
    if (mode & ~(kROk | kWOk | kXOk)) return errno_result(Errno::kEINVAL);
    if (flags & ~uint64_t{AT_EACCESS | AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH})
        return errno_result(Errno::kEINVAL);
    fs::Inode* n = TRY_SYS(lookup_at(dirfd, upath, !(flags & AT_SYMLINK_NOFOLLOW), flags & AT_EMPTY_PATH));
    // The application runs as root: reading and writing are allowed;
    // executing needs an x bit somewhere (or a directory).
    bool ok = true;
    if (mode & kXOk)
        ok = n->type() == fs::InodeType::kDirectory || (n->meta.mode & 0111) != 0;
    n->release();
    return ok ? 0 : errno_result(Errno::kEACCES);
}
int64_t sys_access(const SyscallArgs& a) { return do_access(kAtFdCwd, a.arg[0], a.arg[1], 0); }
int64_t sys_faccessat(const SyscallArgs& a) { return do_access(fd_arg(a.arg[0]), a.arg[1], a.arg[2], 0); }
int64_t sys_faccessat2(const SyscallArgs& a) {
    return do_access(fd_arg(a.arg[0]), a.arg[1], a.arg[2], a.arg[3]);
}

int64_t set_cwd(fs::Inode* n) {
    if (n->type() != fs::InodeType::kDirectory) {
        n->release();
        return errno_result(Errno::kENOTDIR);
    }
    fs::FsContext& ctx = fs::fs_context();
    fs::Inode* old = ctx.cwd;
    ctx.cwd = n;  // takes the reference
    fs::release(old);
    return 0;
}
int64_t sys_chdir(const SyscallArgs& a) {
    if (sched::current().fs == nullptr) return errno_result(Errno::kENOENT);
    return set_cwd(TRY_SYS(lookup_at(kAtFdCwd, a.arg[0], true, false)));
}
int64_t sys_fchdir(const SyscallArgs& a) {
    if (sched::current().fs == nullptr) return errno_result(Errno::kEBADF);
    fs::Inode* n = TRY_SYS(fs::inode_of_fd(fd_arg(a.arg[0])));
    return set_cwd(n);
}

int64_t sys_getcwd(const SyscallArgs& a) {
    char* buf = static_cast<char*>(mm::heap_alloc(fs::kPathMax, 1));
    if (buf == nullptr) return errno_result(Errno::kENOMEM);
    auto n = fs::directory_path(fs_ctx(), fs_ctx().cwd, buf, fs::kPathMax);
    int64_t r;
    if (!n.ok())
        r = errno_result(n.error() == Errno::kERANGE ? Errno::kENAMETOOLONG : n.error());
    else if (*n + 1 > a.arg[1])
        r = errno_result(Errno::kERANGE);
    else {
        auto c = copy_to_user(a.arg[0], buf, *n + 1);
        r = c.ok() ? static_cast<int64_t>(*n + 1) : errno_result(c.error());
    }
    mm::heap_free(buf);
    return r;
}

int64_t sys_umask(const SyscallArgs& a) {
    auto& p = sched::current();
    uint32_t old = p.umask;
    p.umask = static_cast<uint32_t>(a.arg[0]) & 0777;
    return old;
}

void touch_ctime(fs::Inode* n) { n->meta.ctime_ns = static_cast<int64_t>(arch::wall_ns()); }

int64_t chmod_inode(fs::Inode* n, uint64_t mode) {
    if (n->type() == fs::InodeType::kSymlink) {
        n->release();
        return errno_result(Errno::kEOPNOTSUPP);
    }
    n->meta.mode = static_cast<uint32_t>(mode) & 07777;
    touch_ctime(n);
    n->release();
    return 0;
}
int64_t sys_chmod(const SyscallArgs& a) { return chmod_inode(TRY_SYS(lookup_at(kAtFdCwd, a.arg[0], true, false)), a.arg[1]); }
int64_t sys_fchmod(const SyscallArgs& a) { return chmod_inode(TRY_SYS(fs::inode_of_fd(fd_arg(a.arg[0]))), a.arg[1]); }
int64_t sys_fchmodat(const SyscallArgs& a) {
    return chmod_inode(TRY_SYS(lookup_at(fd_arg(a.arg[0]), a.arg[1], true, false)), a.arg[2]);
}

int64_t chown_inode(fs::Inode* n, uint64_t uid, uint64_t gid) {
    if (static_cast<uint32_t>(uid) != 0xffffffffu) n->meta.uid = static_cast<uint32_t>(uid);
    if (static_cast<uint32_t>(gid) != 0xffffffffu) n->meta.gid = static_cast<uint32_t>(gid);
    touch_ctime(n);
    n->release();
    return 0;
}
int64_t sys_chown(const SyscallArgs& a) {
    return chown_inode(TRY_SYS(lookup_at(kAtFdCwd, a.arg[0], true, false)), a.arg[1], a.arg[2]);
}
int64_t sys_lchown(const SyscallArgs& a) {
    return chown_inode(TRY_SYS(lookup_at(kAtFdCwd, a.arg[0], false, false)), a.arg[1], a.arg[2]);
}
int64_t sys_fchown(const SyscallArgs& a) {
    return chown_inode(TRY_SYS(fs::inode_of_fd(fd_arg(a.arg[0]))), a.arg[1], a.arg[2]);
}
int64_t sys_fchownat(const SyscallArgs& a) {
    uint64_t flags = a.arg[4];
    if (flags & ~uint64_t{AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH}) return errno_result(Errno::kEINVAL);
    fs::Inode* n = TRY_SYS(lookup_at(fd_arg(a.arg[0]), a.arg[1], !(flags & AT_SYMLINK_NOFOLLOW), flags & AT_EMPTY_PATH));
    return chown_inode(n, a.arg[2], a.arg[3]);
}

struct KTimespec {
    int64_t sec;
    int64_t nsec;
};
constexpr int64_t kUtimeNow = (1l << 30) - 1;
constexpr int64_t kUtimeOmit = (1l << 30) - 2;

int64_t set_times(fs::Inode* n, const KTimespec* t) {
    int64_t now = static_cast<int64_t>(arch::wall_ns());
    int64_t* slots[2] = {&n->meta.atime_ns, &n->meta.mtime_ns};
    for (int i = 0; i < 2; i++) {
        if (t == nullptr || t[i].nsec == kUtimeNow)
            *slots[i] = now;
        else if (t[i].nsec != kUtimeOmit)
            *slots[i] = t[i].sec * 1000000000 + t[i].nsec;
    }
    n->meta.ctime_ns = now;
    n->release();
    return 0;
}

int64_t sys_utimensat(const SyscallArgs& a) {
    int dirfd = fd_arg(a.arg[0]);
    uint64_t flags = a.arg[3];
    if (flags & ~uint64_t{AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH}) return errno_result(Errno::kEINVAL);
    KTimespec t[2];
    bool have = a.arg[2] != 0;
    if (have) {
        TRY_SYS(copy_from_user(t, a.arg[2], sizeof t));
        for (const KTimespec& ts : t) {
            if (ts.nsec != kUtimeNow && ts.nsec != kUtimeOmit && (ts.nsec < 0 || ts.nsec >= 1000000000))
                return errno_result(Errno::kEINVAL);
        }
    }
    fs::Inode* n;
    if (a.arg[1] == 0) {
        // Linux: a null path means the file dirfd refers to.
        if (dirfd == kAtFdCwd) return errno_result(Errno::kEFAULT);
        n = TRY_SYS(fs::inode_of_fd(dirfd));
    } else {
        n = TRY_SYS(lookup_at(dirfd, a.arg[1], !(flags & AT_SYMLINK_NOFOLLOW), flags & AT_EMPTY_PATH));
    }
    return set_times(n, have ? t : nullptr);
}

int64_t sys_futimesat(const SyscallArgs& a) {
    KTimespec t[2];
    bool have = a.arg[2] != 0;
    if (have) {
        int64_t tv[4];
        TRY_SYS(copy_from_user(tv, a.arg[2], sizeof tv));
        for (int i = 0; i < 2; i++) {
            if (tv[2 * i + 1] < 0 || tv[2 * i + 1] >= 1000000) return errno_result(Errno::kEINVAL);
            t[i] = KTimespec{tv[2 * i], tv[2 * i + 1] * 1000};
        }
    }
    fs::Inode* n = TRY_SYS(lookup_at(fd_arg(a.arg[0]), a.arg[1], true, false));
    return set_times(n, have ? t : nullptr);
}

int64_t sys_xattr_unsupported(const SyscallArgs&) { return errno_result(Errno::kEOPNOTSUPP); }

}  // namespace

const SyscallDef kFsPath[] = {
    {__NR_mkdir, "mkdir", sys_mkdir, {Arg::kPath, Arg::kHex}},
    {__NR_mkdirat, "mkdirat", sys_mkdirat, {Arg::kFd, Arg::kPath, Arg::kHex}},
    {__NR_mknod, "mknod", sys_mknod, {Arg::kPath, Arg::kHex, Arg::kHex}},
    {__NR_mknodat, "mknodat", sys_mknodat, {Arg::kFd, Arg::kPath, Arg::kHex, Arg::kHex}},
    {__NR_rmdir, "rmdir", sys_rmdir, {Arg::kPath}},
    {__NR_unlink, "unlink", sys_unlink, {Arg::kPath}},
    {__NR_unlinkat, "unlinkat", sys_unlinkat, {Arg::kFd, Arg::kPath, Arg::kHex}},
    {__NR_rename, "rename", sys_rename, {Arg::kPath, Arg::kPath}},
    {__NR_renameat, "renameat", sys_renameat, {Arg::kFd, Arg::kPath, Arg::kFd, Arg::kPath}},
    {__NR_renameat2, "renameat2", sys_renameat2, {Arg::kFd, Arg::kPath, Arg::kFd, Arg::kPath, Arg::kHex}},
    {__NR_link, "link", sys_link, {Arg::kPath, Arg::kPath}},
    {__NR_linkat, "linkat", sys_linkat, {Arg::kFd, Arg::kPath, Arg::kFd, Arg::kPath, Arg::kHex}},
    {__NR_symlink, "symlink", sys_symlink, {Arg::kPath, Arg::kPath}},
    {__NR_symlinkat, "symlinkat", sys_symlinkat, {Arg::kPath, Arg::kFd, Arg::kPath}},
    {__NR_readlink, "readlink", sys_readlink, {Arg::kPath, Arg::kPtr, Arg::kUInt}},
    {__NR_readlinkat, "readlinkat", sys_readlinkat, {Arg::kFd, Arg::kPath, Arg::kPtr, Arg::kUInt}},
    {__NR_access, "access", sys_access, {Arg::kPath, Arg::kHex}},
    {__NR_faccessat, "faccessat", sys_faccessat, {Arg::kFd, Arg::kPath, Arg::kHex}},
    {__NR_faccessat2, "faccessat2", sys_faccessat2, {Arg::kFd, Arg::kPath, Arg::kHex, Arg::kHex}},
    {__NR_chdir, "chdir", sys_chdir, {Arg::kPath}},
    {__NR_fchdir, "fchdir", sys_fchdir, {Arg::kFd}},
    {__NR_getcwd, "getcwd", sys_getcwd, {Arg::kPtr, Arg::kUInt}},
    {__NR_umask, "umask", sys_umask, {Arg::kHex}},
    {__NR_chmod, "chmod", sys_chmod, {Arg::kPath, Arg::kHex}},
    {__NR_fchmod, "fchmod", sys_fchmod, {Arg::kFd, Arg::kHex}},
    {__NR_fchmodat, "fchmodat", sys_fchmodat, {Arg::kFd, Arg::kPath, Arg::kHex}},
    {__NR_chown, "chown", sys_chown, {Arg::kPath, Arg::kInt, Arg::kInt}},
    {__NR_lchown, "lchown", sys_lchown, {Arg::kPath, Arg::kInt, Arg::kInt}},
    {__NR_fchown, "fchown", sys_fchown, {Arg::kFd, Arg::kInt, Arg::kInt}},
    {__NR_fchownat, "fchownat", sys_fchownat, {Arg::kFd, Arg::kPath, Arg::kInt, Arg::kInt, Arg::kHex}},
    {__NR_utimensat, "utimensat", sys_utimensat, {Arg::kFd, Arg::kPath, Arg::kPtr, Arg::kHex}},
    {__NR_futimesat, "futimesat", sys_futimesat, {Arg::kFd, Arg::kPath, Arg::kPtr}},
    {__NR_getxattr, "getxattr", sys_xattr_unsupported, {Arg::kPath, Arg::kPath, Arg::kPtr, Arg::kUInt}},
    {__NR_lgetxattr, "lgetxattr", sys_xattr_unsupported, {Arg::kPath, Arg::kPath, Arg::kPtr, Arg::kUInt}},
    {__NR_fgetxattr, "fgetxattr", sys_xattr_unsupported, {Arg::kFd, Arg::kPath, Arg::kPtr, Arg::kUInt}},
    {__NR_listxattr, "listxattr", sys_xattr_unsupported, {Arg::kPath, Arg::kPtr, Arg::kUInt}},
    {__NR_llistxattr, "llistxattr", sys_xattr_unsupported, {Arg::kPath, Arg::kPtr, Arg::kUInt}},
    {__NR_flistxattr, "flistxattr", sys_xattr_unsupported, {Arg::kFd, Arg::kPtr, Arg::kUInt}},
    {__NR_setxattr, "setxattr", sys_xattr_unsupported, {Arg::kPath, Arg::kPath, Arg::kPtr, Arg::kUInt}},
    {__NR_lsetxattr, "lsetxattr", sys_xattr_unsupported, {Arg::kPath, Arg::kPath, Arg::kPtr, Arg::kUInt}},
    {__NR_fsetxattr, "fsetxattr", sys_xattr_unsupported, {Arg::kFd, Arg::kPath, Arg::kPtr, Arg::kUInt}},
};
extern const SyscallFamily kFsFamily = {kFsPath, sizeof(kFsPath) / sizeof(kFsPath[0])};

}  // namespace kiln::sys
