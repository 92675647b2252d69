// Open files: a File is an open file description (offset, status flags,
// the path it was opened by), shared by dup'ed descriptors; an FdTable maps
// descriptors to Files with a close-on-exec bit each (open(2), dup(2),
// fcntl(2) semantics).
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "fs/inode.h"
#include "fs/path.h"

namespace kiln::fs {

// Told when an open file description goes away (its last descriptor
// closed): epoll forgets its items for it.
struct FileCloseHook {
    void (*closed)(FileCloseHook* self) = nullptr;
    FileCloseHook* next = nullptr;
};

class File {
public:
    // Takes over one reference to inode; path is copied (may be null).
    static File* make(Inode* inode, uint32_t flags, const char* path);

    void retain() { refs_++; }
    void release();

    Inode* inode() const { return inode_; }
    uint64_t offset = 0;
    uint32_t flags = 0;  // O_ACCMODE | O_APPEND | O_NONBLOCK | ... (no O_CLOEXEC)
    const char* path() const { return path_ != nullptr ? path_ : ""; }

    bool readable() const;
    bool writable() const;

    void add_close_hook(FileCloseHook* h);
    void remove_close_hook(FileCloseHook* h);

    // Use make() and release(); public only for mm::make/destroy.
    File() = default;
    ~File();

private:
    Inode* inode_ = nullptr;
    char* path_ = nullptr;
    FileCloseHook* close_hooks_ = nullptr;
    uint32_t refs_ = 1;
};

// Keeps a File (and so its inode) alive across a call that may block:
// another thread may close the descriptor meanwhile (Linux's fdget).
class FileHold {
public:
    explicit FileHold(File* f) : f_(f) { f_->retain(); }
    ~FileHold() { f_->release(); }
    FileHold(const FileHold&) = delete;
    FileHold& operator=(const FileHold&) = delete;

private:
    File* f_;
};

class FdTable {
public:
    static constexpr int kMaxFds = 1024;  // RLIMIT_NOFILE

    FdTable() = default;
    ~FdTable();
    FdTable(const FdTable&) = delete;
    FdTable& operator=(const FdTable&) = delete;

    // The lowest free descriptor >= min_fd, now holding file (retained).
    // EMFILE when none is free, EINVAL for min_fd out of range.
    Result<int> install(File* file, bool cloexec, int min_fd = 0);
    // Places file at exactly fd, closing what was there (dup2).
    Result<int> install_at(int fd, File* file, bool cloexec);
    // The File at fd (not retained), EBADF when there is none.
    Result<File*> get(int fd) const;
    Result<void> close(int fd);
    // Closes every open fd in [first, last] (close_range); cloexec_only
    // marks them close-on-exec instead.
    void close_range(unsigned first, unsigned last, bool cloexec_only);

    Result<bool> cloexec(int fd) const;
    Result<void> set_cloexec(int fd, bool on);
    int count_open() const;
    // Next open descriptor >= fd, or -1 (for /proc/self/fd).
    int next_open(int fd) const;

private:
    File* files_[kMaxFds] = {};
    bool cloexec_[kMaxFds] = {};
};

// Opens path (relative to start) like openat(2): flags are O_*, mode the
// creation mode with the umask already applied. Returns a File holding the
// inode; the caller installs it.
Result<File*> open_path(const FsContext& ctx, Inode* start, const char* path, uint32_t flags,
                        uint32_t mode);

}  // namespace kiln::fs
