// File I/O system calls: read(2)/write(2) and their vector and positional
// forms, lseek(2), getdents64(2), sendfile(2), copy_file_range(2),
// truncation, sync, ioctl(2) and fadvise.
#include <asm-generic/ioctls.h>
#include <linux/fcntl.h>

#include "fs/dirent.h"
#include "fs/tree.h"
#include "linux/fs_common.h"
#include "linux/user.h"

namespace kiln::sys {
namespace {

using fs::File;

struct IoVec {
    uint64_t base;
    uint64_t len;
};
constexpr uint64_t kIovMax = 1024;

int fd_arg(uint64_t v) { return static_cast<int>(static_cast<int32_t>(v)); }

int64_t sys_read(const SyscallArgs& a) {
    File* f = TRY_SYS(fs::file_of_fd(fd_arg(a.arg[0])));
    fs::FileHold hold(f);  // a read may block while another thread closes fd
    return restart_if_interrupted(to_syscall_result(file_read_user(f, a.arg[1], a.arg[2], nullptr)));
}

int64_t sys_write(const SyscallArgs& a) {
    File* f = TRY_SYS(fs::file_of_fd(fd_arg(a.arg[0])));
    fs::FileHold hold(f);
    return restart_if_interrupted(to_syscall_result(file_write_user(f, a.arg[1], a.arg[2], nullptr)));
}

Result<size_t> positional(const SyscallArgs& a, uint64_t* pos) {
    int64_t off = static_cast<int64_t>(a.arg[3]);
    if (off < 0) return Error(Errno::kEINVAL);
    *pos = static_cast<uint64_t>(off);
    return 0;
}

int64_t sys_pread64(const SyscallArgs& a) {
    File* f = TRY_SYS(fs::file_of_fd(fd_arg(a.arg[0])));
    if (!f->inode()->seekable()) return errno_result(Errno::kESPIPE);
    uint64_t pos;
    TRY_SYS(positional(a, &pos));
    return to_syscall_result(file_read_user(f, a.arg[1], a.arg[2], &pos));
}

int64_t sys_pwrite64(const SyscallArgs& a) {
    File* f = TRY_SYS(fs::file_of_fd(fd_arg(a.arg[0])));
    if (!f->inode()->seekable()) return errno_result(Errno::kESPIPE);
    uint64_t pos;
    TRY_SYS(positional(a, &pos));
    return to_syscall_result(file_write_user(f, a.arg[1], a.arg[2], &pos));
}

// readv/writev and the positional forms: one iovec at a time; a short
// transfer ends the call.
int64_t vector_io(const SyscallArgs& a, bool write, bool positioned) {
    File* f = TRY_SYS(fs::file_of_fd(fd_arg(a.arg[0])));
    fs::FileHold hold(f);
    uint64_t cnt = a.arg[2];
    if (cnt > kIovMax) return errno_result(Errno::kEINVAL);
    uint64_t pos = 0;
    uint64_t* posp = nullptr;
    if (positioned) {
        if (!f->inode()->seekable()) return errno_result(Errno::kESPIPE);
        int64_t off = static_cast<int64_t>(a.arg[3]);
        if (off < 0) return errno_result(Errno::kEINVAL);
        pos = static_cast<uint64_t>(off);
        posp = &pos;
    }
    if (write ? !f->writable() : !f->readable()) return errno_result(Errno::kEBADF);
    uint64_t total = 0;
    for (uint64_t i = 0; i < cnt; i++) {
        auto v = read_user<IoVec>(a.arg[1] + i * sizeof(IoVec));
        if (!v.ok()) {
            if (total > 0) break;
            return errno_result(v.error());
        }
        if (static_cast<int64_t>(v->len) < 0) return total > 0 ? int64_t(total) : errno_result(Errno::kEINVAL);
        if (v->len == 0) continue;
        size_t want = v->len;
        if (want > kMaxRw - total) want = kMaxRw - total;
        auto r = write ? file_write_user(f, v->base, want, posp) : file_read_user(f, v->base, want, posp);
        if (!r.ok()) {
            if (total > 0) break;
            return errno_result(r.error());
        }
        total += *r;
        if (*r < want || total >= kMaxRw) break;
    }
    return static_cast<int64_t>(total);
}

int64_t sys_readv(const SyscallArgs& a) { return restart_if_interrupted(vector_io(a, false, false)); }
int64_t sys_writev(const SyscallArgs& a) { return restart_if_interrupted(vector_io(a, true, false)); }
int64_t sys_preadv(const SyscallArgs& a) { return vector_io(a, false, true); }
int64_t sys_pwritev(const SyscallArgs& a) { return vector_io(a, true, true); }

constexpr int kSeekSet = 0, kSeekCur = 1, kSeekEnd = 2, kSeekData = 3, kSeekHole = 4;

int64_t sys_lseek(const SyscallArgs& a) {
    File* f = TRY_SYS(fs::file_of_fd(fd_arg(a.arg[0])));
    fs::Inode* in = f->inode();
    if (!in->seekable()) return errno_result(Errno::kESPIPE);
    int64_t off = static_cast<int64_t>(a.arg[1]);
    int whence = static_cast<int>(a.arg[2]);
    int64_t size = static_cast<int64_t>(in->size());
    int64_t base;
    switch (whence) {
    case kSeekSet: base = 0; break;
    case kSeekCur: base = static_cast<int64_t>(f->offset); break;
    case kSeekEnd: base = size; break;
    case kSeekData:
    case kSeekHole:
        if (off < 0 || off >= size) return errno_result(Errno::kENXIO);
        f->offset = static_cast<uint64_t>(whence == kSeekData ? off : size);
        return static_cast<int64_t>(f->offset);
    default: return errno_result(Errno::kEINVAL);
    }
    int64_t r;
    if (__builtin_add_overflow(base, off, &r) || r < 0) return errno_result(Errno::kEINVAL);
    f->offset = static_cast<uint64_t>(r);
    return r;
}

int64_t sys_getdents64(const SyscallArgs& a) {
    File* f = TRY_SYS(fs::file_of_fd(fd_arg(a.arg[0])));
    if (f->flags & O_PATH) return errno_result(Errno::kEBADF);
    fs::Inode* in = f->inode();
    if (in->type() != fs::InodeType::kDirectory) return errno_result(Errno::kENOTDIR);
    size_t cap = a.arg[2] < kBounceSize ? a.arg[2] : kBounceSize;
    uint64_t pos = f->offset;
    size_t n = TRY_SYS(fs::fill_dirents(in, &pos, bounce(), cap));
    if (n > 0) TRY_SYS(copy_to_user(a.arg[1], bounce(), n));
    f->offset = pos;
    return static_cast<int64_t>(n);
}

// Copies up to count bytes from `in` (at *in_pos, or its offset) to `out`
// (at *out_pos, or its offset) through the bounce buffer.
int64_t copy_between(File* in, uint64_t* in_pos, File* out, uint64_t* out_pos, uint64_t count) {
    if (!in->readable() || !out->writable()) return errno_result(Errno::kEBADF);
    if (in->inode()->type() == fs::InodeType::kDirectory) return errno_result(Errno::kEINVAL);
    if (count > kMaxRw) count = kMaxRw;
    uint64_t done = 0;
    while (done < count) {
        size_t chunk = count - done < kBounceSize ? count - done : kBounceSize;
        uint64_t before = in_pos ? *in_pos : in->offset;
        auto r = file_read(in, bounce(), chunk, in_pos);
        if (!r.ok()) return done > 0 ? int64_t(done) : errno_result(r.error());
        if (*r == 0) break;
        auto w = file_write(out, bounce(), *r, out_pos);
        if (!w.ok() || *w < *r) {
            // Give back what was read but not written.
            uint64_t written = w.ok() ? *w : 0;
            if (in_pos)
                *in_pos = before + written;
            else if (in->inode()->seekable())
                in->offset = before + written;
            done += written;
            if (!w.ok() && done == 0) return errno_result(w.error());
            break;
        }
        done += *r;
        if (*r < chunk) break;
    }
    return static_cast<int64_t>(done);
}

int64_t sys_sendfile(const SyscallArgs& a) {
    File* out = TRY_SYS(fs::file_of_fd(fd_arg(a.arg[0])));
    File* in = TRY_SYS(fs::file_of_fd(fd_arg(a.arg[1])));
    fs::FileHold hold_out(out), hold_in(in);
    if (a.arg[2] == 0) return copy_between(in, nullptr, out, nullptr, a.arg[3]);
    // With an offset pointer the file's own offset stays put; the pointer
    // gets the position after the last byte read.
    int64_t off = TRY_SYS(read_user<int64_t>(a.arg[2]));
    if (off < 0) return errno_result(Errno::kEINVAL);
    uint64_t pos = static_cast<uint64_t>(off);
    int64_t r = copy_between(in, &pos, out, nullptr, a.arg[3]);
    if (r >= 0) TRY_SYS(write_user<int64_t>(a.arg[2], static_cast<int64_t>(pos)));
    return r;
}

int64_t sys_copy_file_range(const SyscallArgs& a) {
    if (a.arg[5] != 0) return errno_result(Errno::kEINVAL);
    File* in = TRY_SYS(fs::file_of_fd(fd_arg(a.arg[0])));
    File* out = TRY_SYS(fs::file_of_fd(fd_arg(a.arg[2])));
    if (in->inode()->type() != fs::InodeType::kRegular || out->inode()->type() != fs::InodeType::kRegular)
        return errno_result(in->inode()->type() == fs::InodeType::kDirectory ||
                                    out->inode()->type() == fs::InodeType::kDirectory
                                ? Errno::kEISDIR
                                : Errno::kEINVAL);
    if (out->flags & O_APPEND) return errno_result(Errno::kEBADF);
    uint64_t ipos = 0, opos = 0;
    uint64_t* ip = nullptr;
    uint64_t* op = nullptr;
    if (a.arg[1] != 0) {
        int64_t v = TRY_SYS(read_user<int64_t>(a.arg[1]));
        if (v < 0) return errno_result(Errno::kEINVAL);
        ipos = static_cast<uint64_t>(v);
        ip = &ipos;
    }
    if (a.arg[3] != 0) {
        int64_t v = TRY_SYS(read_user<int64_t>(a.arg[3]));
        if (v < 0) return errno_result(Errno::kEINVAL);
        opos = static_cast<uint64_t>(v);
        op = &opos;
    }
    int64_t r = copy_between(in, ip, out, op, a.arg[4]);
    if (r >= 0 && ip) TRY_SYS(write_user<int64_t>(a.arg[1], static_cast<int64_t>(ipos)));
    if (r >= 0 && op) TRY_SYS(write_user<int64_t>(a.arg[3], static_cast<int64_t>(opos)));
    return r;
}

Result<void> truncate_inode(fs::Inode* in, int64_t len) {
    if (len < 0) return Error(Errno::kEINVAL);
    if (in->type() == fs::InodeType::kDirectory) return Error(Errno::kEISDIR);
    if (in->type() != fs::InodeType::kRegular) return Error(Errno::kEINVAL);
    return in->truncate(static_cast<uint64_t>(len));
}

int64_t sys_ftruncate(const SyscallArgs& a) {
    File* f = TRY_SYS(fs::file_of_fd(fd_arg(a.arg[0])));
    if (!f->writable()) return errno_result(Errno::kEINVAL);
    return to_syscall_result(truncate_inode(f->inode(), static_cast<int64_t>(a.arg[1])));
}

int64_t sys_truncate(const SyscallArgs& a) {
    fs::Inode* in = TRY_SYS(lookup_at(kAtFdCwd, a.arg[0], true, false));
    auto r = truncate_inode(in, static_cast<int64_t>(a.arg[1]));
    in->release();
    return to_syscall_result(r);
}

// Everything is in memory: syncing has nothing to do.
int64_t sys_fsync(const SyscallArgs& a) {
    TRY_SYS(fs::file_of_fd(fd_arg(a.arg[0])));
    return 0;
}
int64_t sys_sync(const SyscallArgs&) { return 0; }

int64_t sys_fadvise64(const SyscallArgs& a) {
    File* f = TRY_SYS(fs::file_of_fd(fd_arg(a.arg[0])));
    if (!f->inode()->seekable()) return errno_result(Errno::kESPIPE);
    if (a.arg[3] > 5) return errno_result(Errno::kEINVAL);
    return 0;
}

int64_t sys_ioctl(const SyscallArgs& a) {
    int fd = fd_arg(a.arg[0]);
    File* f = TRY_SYS(fs::file_of_fd(fd));
    uint32_t cmd = static_cast<uint32_t>(a.arg[1]);
    switch (cmd) {
    case FIONBIO: {
        int on = TRY_SYS(read_user<int>(a.arg[2]));
        if (on)
            f->flags |= O_NONBLOCK;
        else
            f->flags &= ~static_cast<uint32_t>(O_NONBLOCK);
        return 0;
    }
    case FIONREAD: {
        if (f->inode()->type() == fs::InodeType::kDirectory) return errno_result(Errno::kENOTTY);
        uint64_t n = f->inode()->bytes_readable(f->offset);
        int v = n > 0x7fffffff ? 0x7fffffff : static_cast<int>(n);
        TRY_SYS(write_user<int>(a.arg[2], v));
        return 0;
    }
    case FIOCLEX: return to_syscall_result(fs::fd_table().set_cloexec(fd, true));
    case FIONCLEX: return to_syscall_result(fs::fd_table().set_cloexec(fd, false));
    default:
        // TCGETS, TIOCGWINSZ, TIOCGPGRP and the rest: no terminal here, so
        // programs treat redirected output as a pipe or file. Sockets
        // answer their own (SIOCOUTQ, SIOCATMARK).
        return to_syscall_result(f->inode()->ioctl(cmd, a.arg[2]));
    }
}

}  // namespace

const SyscallDef kFsIo[] = {
    {__NR_read, "read", sys_read, {Arg::kFd, Arg::kPtr, Arg::kUInt}},
    {__NR_write, "write", sys_write, {Arg::kFd, Arg::kBuf, Arg::kUInt}},
    {__NR_pread64, "pread64", sys_pread64, {Arg::kFd, Arg::kPtr, Arg::kUInt, Arg::kInt}},
    {__NR_pwrite64, "pwrite64", sys_pwrite64, {Arg::kFd, Arg::kBuf, Arg::kUInt, Arg::kInt}},
    {__NR_readv, "readv", sys_readv, {Arg::kFd, Arg::kPtr, Arg::kUInt}},
    {__NR_writev, "writev", sys_writev, {Arg::kFd, Arg::kPtr, Arg::kUInt}},
    {__NR_preadv, "preadv", sys_preadv, {Arg::kFd, Arg::kPtr, Arg::kUInt, Arg::kInt}},
    {__NR_pwritev, "pwritev", sys_pwritev, {Arg::kFd, Arg::kPtr, Arg::kUInt, Arg::kInt}},
    {__NR_lseek, "lseek", sys_lseek, {Arg::kFd, Arg::kInt, Arg::kInt}},
    {__NR_getdents64, "getdents64", sys_getdents64, {Arg::kFd, Arg::kPtr, Arg::kUInt}},
    {__NR_sendfile, "sendfile", sys_sendfile, {Arg::kFd, Arg::kFd, Arg::kPtr, Arg::kUInt}},
    {__NR_copy_file_range, "copy_file_range", sys_copy_file_range,
     {Arg::kFd, Arg::kPtr, Arg::kFd, Arg::kPtr, Arg::kUInt, Arg::kHex}},
    {__NR_ftruncate, "ftruncate", sys_ftruncate, {Arg::kFd, Arg::kInt}},
    {__NR_truncate, "truncate", sys_truncate, {Arg::kPath, Arg::kInt}},
    {__NR_fsync, "fsync", sys_fsync, {Arg::kFd}},
    {__NR_fdatasync, "fdatasync", sys_fsync, {Arg::kFd}},
    {__NR_sync, "sync", sys_sync, {}},
    {__NR_fadvise64, "fadvise64", sys_fadvise64, {Arg::kFd, Arg::kInt, Arg::kUInt, Arg::kInt}},
    {__NR_ioctl, "ioctl", sys_ioctl, {Arg::kFd, Arg::kHex, Arg::kPtr}},
};
extern const SyscallFamily kFsIoFamily = {kFsIo, sizeof(kFsIo) / sizeof(kFsIo[0])};

}  // namespace kiln::sys
