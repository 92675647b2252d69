// Shared pieces of the fs syscalls (fs_common.h).
#include "linux/fs_common.h"

#include <linux/fcntl.h>

#include "fs/tree.h"
#include "linux/user.h"
#include "mm/heap.h"

namespace kiln::sys {
namespace {

// One bounce buffer: the kernel runs one system call at a time.
constexpr size_t kBounce = 64 * 1024;
alignas(4096) uint8_t g_bounce[kBounce];

}  // namespace

uint8_t* bounce() { return g_bounce; }

UserPath::~UserPath() { mm::heap_free(buf_); }

Result<void> UserPath::copy_in(uint64_t uaddr) {
    if (buf_ == nullptr) {
        buf_ = static_cast<char*>(mm::heap_alloc(fs::kPathMax, 1));
        if (buf_ == nullptr) return Error(Errno::kENOMEM);
    }
    TRY(copy_string_from_user(buf_, uaddr, fs::kPathMax));
    return {};
}

Result<fs::Inode*> start_dir(int dirfd, const char* path) {
    if (path[0] == '/' || dirfd == kAtFdCwd) return fs_ctx().cwd;
    fs::File* f = TRY(fs::file_of_fd(dirfd));
    if (f->inode()->type() != fs::InodeType::kDirectory) return Error(Errno::kENOTDIR);
    return f->inode();
}

Result<fs::Inode*> lookup_at(int dirfd, uint64_t upath, bool follow, bool empty_path_ok) {
    UserPath path;
    TRY(path.copy_in(upath));
    if (path.empty()) {
        if (!empty_path_ok) return Error(Errno::kENOENT);
        fs::Inode* n;
        if (dirfd == kAtFdCwd) {
            n = fs_ctx().cwd;
        } else {
            fs::File* f = TRY(fs::file_of_fd(dirfd));
            n = f->inode();
        }
        n->retain();
        return n;
    }
    fs::Inode* start = TRY(start_dir(dirfd, path.c_str()));
    return fs::resolve_existing(fs_ctx(), start, path.c_str(),
                                follow ? unsigned{fs::kFollowLast} : 0u);
}

Result<size_t> file_read(fs::File* f, void* buf, size_t n, uint64_t* pos) {
    if (!f->readable()) return Error(Errno::kEBADF);
    fs::Inode* in = f->inode();
    if (in->type() == fs::InodeType::kDirectory) return Error(Errno::kEISDIR);
    uint64_t off = pos != nullptr ? *pos : f->offset;
    size_t r = TRY(in->read_at(off, buf, n));
    if (pos != nullptr)
        *pos = off + r;
    else if (in->seekable())
        f->offset = off + r;
    return r;
}

Result<size_t> file_write(fs::File* f, const void* buf, size_t n, uint64_t* pos) {
    if (!f->writable()) return Error(Errno::kEBADF);
    fs::Inode* in = f->inode();
    uint64_t off = pos != nullptr ? *pos : f->offset;
    // O_APPEND: every write goes to the end (pwrite too, as on Linux).
    if ((f->flags & O_APPEND) && in->seekable()) off = in->size();
    size_t w = TRY(in->write_at(off, buf, n));
    if (pos != nullptr)
        *pos = off + w;
    else if (in->seekable())
        f->offset = off + w;
    return w;
}

Result<size_t> file_read_user(fs::File* f, uint64_t ubuf, size_t n, uint64_t* pos) {
    if (n > kMaxRw) n = kMaxRw;
    size_t done = 0;
    bool stream = !f->inode()->seekable();
    while (done < n || n == 0) {
        size_t chunk = n - done < kBounce ? n - done : kBounce;
        auto r = file_read(f, g_bounce, chunk, pos);
        if (!r.ok()) {
            if (done > 0) break;
            return r;
        }
        if (*r > 0) {
            auto c = copy_to_user(ubuf + done, g_bounce, *r);
            if (!c.ok()) {
                if (done > 0) break;
                return Error(c.error());
            }
        }
        done += *r;
        // A short read is the end for now (end of file, or a stream with no
        // more data waiting).
        if (*r < chunk || stream || n == 0) break;
    }
    return done;
}

Result<size_t> file_write_user(fs::File* f, uint64_t ubuf, size_t n, uint64_t* pos) {
    if (n > kMaxRw) n = kMaxRw;
    if (!f->writable()) return Error(Errno::kEBADF);
    size_t done = 0;
    while (done < n) {
        size_t chunk = n - done < kBounce ? n - done : kBounce;
        auto c = copy_from_user(g_bounce, ubuf + done, chunk);
        if (!c.ok()) {
            if (done > 0) break;
            return Error(c.error());
        }
        auto w = file_write(f, g_bounce, chunk, pos);
        if (!w.ok()) {
            if (done > 0) break;
            return w;
        }
        done += *w;
        if (*w < chunk) break;
    }
    return done;
}

}  // namespace kiln::sys
