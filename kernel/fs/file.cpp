// Open file descriptions, the descriptor table and open(2) itself.
#include "fs/file.h"

#include <linux/fcntl.h>

#include "fs/platform.h"
#include "fs/tree.h"
#include "mm/new.h"

namespace kiln::fs {

// ---- File ----

File* File::make(Inode* inode, uint32_t flags, const char* path) {
    File* f = mm::make<File>();
    if (f == nullptr) return nullptr;
    if (path != nullptr) {
        f->path_ = dup_string(Span<const char>(path, __builtin_strlen(path)));
        if (f->path_ == nullptr) {
            mm::destroy(f);
            return nullptr;
        }
    }
    f->inode_ = inode;
    f->flags = flags & ~static_cast<uint32_t>(O_CLOEXEC | O_CREAT | O_EXCL | O_TRUNC | O_NOCTTY);
    return f;
}

File::~File() {
    while (close_hooks_ != nullptr) {
        FileCloseHook* h = close_hooks_;
        close_hooks_ = h->next;
        h->next = nullptr;
        h->closed(h);
    }
    fs::release(inode_);
    mm::heap_free(path_);
}

void File::release() {
    if (--refs_ == 0) mm::destroy(this);
}

void File::add_close_hook(FileCloseHook* h) {
    h->next = close_hooks_;
    close_hooks_ = h;
}

void File::remove_close_hook(FileCloseHook* h) {
    for (FileCloseHook** p = &close_hooks_; *p != nullptr; p = &(*p)->next) {
        if (*p == h) {
            *p = h->next;
            h->next = nullptr;
            return;
        }
    }
}

bool File::readable() const {
    if (flags & O_PATH) return false;
    uint32_t acc = flags & O_ACCMODE;
    return acc == O_RDONLY || acc == O_RDWR;
}

bool File::writable() const {
    if (flags & O_PATH) return false;
    uint32_t acc = flags & O_ACCMODE;
    return acc == O_WRONLY || acc == O_RDWR;
}

// ---- FdTable ----

FdTable::~FdTable() {
    for (File*& f : files_) {
        if (f != nullptr) f->release();
        f = nullptr;
    }
}

Result<int> FdTable::install(File* file, bool cloexec, int min_fd) {
    if (min_fd < 0 || min_fd >= kMaxFds) return Error(Errno::kEINVAL);
    for (int fd = min_fd; fd < kMaxFds; fd++) {
        if (files_[fd] == nullptr) {
            file->retain();
            files_[fd] = file;
            cloexec_[fd] = cloexec;
            return fd;
        }
    }
    return Error(Errno::kEMFILE);
}

Result<int> FdTable::install_at(int fd, File* file, bool cloexec) {
    if (fd < 0 || fd >= kMaxFds) return Error(Errno::kEBADF);
    file->retain();
    File* old = files_[fd];
    files_[fd] = file;
    cloexec_[fd] = cloexec;
    if (old != nullptr) old->release();
    return fd;
}

Result<File*> FdTable::get(int fd) const {
    if (fd < 0 || fd >= kMaxFds || files_[fd] == nullptr) return Error(Errno::kEBADF);
    return files_[fd];
}

Result<void> FdTable::close(int fd) {
    if (fd < 0 || fd >= kMaxFds || files_[fd] == nullptr) return Error(Errno::kEBADF);
    File* f = files_[fd];
    files_[fd] = nullptr;
    cloexec_[fd] = false;
    f->release();
    return {};
}

void FdTable::close_range(unsigned first, unsigned last, bool cloexec_only) {
    for (unsigned fd = first; fd <= last && fd < static_cast<unsigned>(kMaxFds); fd++) {
        if (files_[fd] == nullptr) continue;
        if (cloexec_only)
            cloexec_[fd] = true;
        else
            (void)close(static_cast<int>(fd));
    }
}

Result<bool> FdTable::cloexec(int fd) const {
    TRY(get(fd));
    return cloexec_[fd];
}

Result<void> FdTable::set_cloexec(int fd, bool on) {
    TRY(get(fd));
    cloexec_[fd] = on;
    return {};
}

int FdTable::count_open() const {
    int n = 0;
    for (File* f : files_) n += f != nullptr;
    return n;
}

int FdTable::next_open(int fd) const {
    for (int i = fd < 0 ? 0 : fd; i < kMaxFds; i++) {
        if (files_[i] != nullptr) return i;
    }
    return -1;
}

// ---- open ----

namespace {

// "<dir path>/<name>" for /proc/self/fd; best effort (nullptr-free).
void describe_path(const FsContext& ctx, const Resolved& r, char* buf, size_t cap) {
    buf[0] = '\0';
    if (r.parent == nullptr) return;
    if (r.node != nullptr && r.node->type() == InodeType::kDirectory) {
        auto n = directory_path(ctx, r.node, buf, cap);
        if (n.ok()) return;
    }
    auto n = directory_path(ctx, r.parent, buf, cap);
    if (!n.ok()) {
        buf[0] = '\0';
        return;
    }
    size_t len = *n;
    if (len + 1 + r.name_len + 1 > cap) return;
    if (len > 1) buf[len++] = '/';
    __builtin_memcpy(buf + len, r.name, r.name_len);
    buf[len + r.name_len] = '\0';
}

}  // namespace

Result<File*> open_path(const FsContext& ctx, Inode* start, const char* path, uint32_t flags,
                        uint32_t mode) {
    if ((flags & __O_TMPFILE) == __O_TMPFILE) return Error(Errno::kEOPNOTSUPP);  // FIXME: O_TMPFILE
    bool creat = flags & O_CREAT;
    bool excl = creat && (flags & O_EXCL);
    bool path_only = flags & O_PATH;
    unsigned rflags = (flags & O_NOFOLLOW) || excl ? 0u : unsigned{kFollowLast};
    Resolved r;
    auto res = resolve(ctx, start, path, rflags, &r);
    if (!res.ok()) {
        // open("file/", O_CREAT) where file exists as a non-directory.
        return Error(res.error());
    }
    if (r.node == nullptr) {
        if (!creat) return Error(Errno::kENOENT);
        if (r.trailing_slash) return Error(Errno::kEISDIR);
        Directory* dir = r.parent != nullptr ? r.parent->as_directory() : nullptr;
        if (dir == nullptr || dir->read_only()) return Error(Errno::kEACCES);
        if (dir->removed()) return Error(Errno::kENOENT);
        auto* f = mm::make<RegularFile>();
        if (f == nullptr) return Error(Errno::kENOMEM);
        f->meta.mode = mode & 07777;
        auto added = dir->add(r.last(), f);
        if (!added.ok()) {
            f->release();
            return Error(added.error());
        }
        r.node = f;  // the creation reference moves to r
    } else {
        if (excl) return Error(Errno::kEEXIST);
        Inode* n = r.node;
        if (n->type() == InodeType::kSymlink && !path_only) return Error(Errno::kELOOP);
        if ((flags & O_DIRECTORY) && n->type() != InodeType::kDirectory)
            return Error(Errno::kENOTDIR);
        if (n->type() == InodeType::kDirectory && !path_only) {
            if (creat) return Error(Errno::kEISDIR);
            if ((flags & O_ACCMODE) != O_RDONLY) return Error(Errno::kEISDIR);
        }
        if ((flags & O_TRUNC) && !path_only && (flags & O_ACCMODE) != O_RDONLY &&
            n->type() == InodeType::kRegular) {
            TRY(n->truncate(0));
        }
    }

    char* pbuf = static_cast<char*>(mm::heap_alloc(kPathMax, 1));
    if (pbuf != nullptr) describe_path(ctx, r, pbuf, kPathMax);
    File* file = File::make(r.node, flags, pbuf);
    mm::heap_free(pbuf);
    if (file == nullptr) return Error(Errno::kENOMEM);
    r.node = nullptr;  // the File holds it now
    return file;
}

}  // namespace kiln::fs
