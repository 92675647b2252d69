// What the rest of the kernel needs from a file system object: its type and
// size, and reading its bytes at an offset (the loader reads ELF images,
// mm fills private file mappings). kernel/fs owns the full interface; this
// part is the contract others build on. The rest (writing, directories,
// symlinks, metadata) is what kernel/fs and the fs syscalls use.
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "fs/poll.h"
#include "kiln/result.h"
#include "kiln/span.h"

namespace kiln::fs {

enum class InodeType : uint8_t { kRegular, kDirectory, kSymlink, kCharDevice, kFifo, kSocket };

inline constexpr size_t kPathMax = 4096;  // PATH_MAX, including the NUL
inline constexpr size_t kNameMax = 255;   // NAME_MAX
inline constexpr uint64_t kMaxFileSize = 1ull << 40;

class Directory;
class Epoll;
class RegularFile;

// One entry produced by Inode::read_dir.
struct DirEntry {
    uint64_t ino;
    InodeType type;
    Span<const char> name;  // valid until the directory changes
};

// stat's view of an inode. Times are nanoseconds since the epoch.
struct Metadata {
    uint64_t ino = 0;
    uint32_t mode = 0;  // permission bits (07777); the type comes from type()
    uint32_t uid = 0, gid = 0;
    uint32_t nlink = 1;
    uint32_t rdev = 0;  // character devices: (major << 8) | minor
    int64_t atime_ns = 0, mtime_ns = 0, ctime_ns = 0;
};

class Inode {
public:
    virtual ~Inode() = default;
    virtual InodeType type() const = 0;
    virtual uint64_t size() const = 0;
    // Up to n bytes at off; fewer at end of file (0 at or past it).
    virtual Result<size_t> read_at(uint64_t off, void* buf, size_t n) = 0;

    // Reference counting: an Inode lives while anything holds it.
    void retain() { refs_++; }
    void release() {
        if (--refs_ == 0) on_last_release();
    }

    // Writes n bytes at off (files grow as needed). EINVAL where writing
    // makes no sense, EISDIR for directories.
    virtual Result<size_t> write_at(uint64_t off, const void* buf, size_t n);
    // Sets the size (files only: EISDIR, EINVAL otherwise).
    virtual Result<void> truncate(uint64_t size);

    // Directories: the child called `name` (retained), ENOENT when there
    // is none; ENOTDIR for anything else.
    virtual Result<Inode*> lookup(Span<const char> name);
    // Directories: the entry at or after position *pos, advancing *pos past
    // it; false at the end. Positions 0 and 1 are "." and "..".
    virtual Result<bool> read_dir(uint64_t* pos, DirEntry* out);
    // Directories: the directory above (not retained); itself at the root.
    virtual Inode* parent_dir() { return nullptr; }

    // Symlinks: copies the target (no NUL) into buf, returns its length.
    virtual Result<size_t> read_link(char* buf, size_t cap);
    // Magic links (/proc/self/fd/N, /proc/self/exe): the inode they stand
    // for, retained; nullptr for ordinary symlinks, followed by their text.
    virtual Inode* follow_magic() { return nullptr; }

    // Devices that are not seekable (the console) answer false: ESPIPE.
    virtual bool seekable() const { return true; }
    // A terminal for isatty (TCGETS): kiln's console is not one, so that
    // apps see redirected output as on a pipe.
    virtual bool is_tty() const { return false; }
    // Bytes readable without blocking (FIONREAD).
    virtual uint64_t bytes_readable(uint64_t offset) const {
        uint64_t s = size();
        return offset < s ? s - offset : 0;
    }

    // Readiness (fs/poll.h bits) for poll, select and epoll. Files and
    // devices whose state never changes are always readable and writable.
    virtual uint32_t poll_events() { return kPollReadable | kPollWritable; }
    // The watchers to notify when poll_events() changes; nullptr for
    // objects whose readiness never changes.
    virtual PollWatchers* poll_watchers() { return nullptr; }
    // Whether an interrupt (an armed timer) can change poll_events()
    // without any system call: a one-thread wait on anything else with no
    // deadline would never end.
    virtual bool wakes_asynchronously() { return false; }
    // epoll_ctl(ADD) refuses objects without readiness (EPERM), as Linux
    // does for regular files and directories.
    virtual bool epollable() const {
        return type() != InodeType::kRegular && type() != InodeType::kDirectory;
    }
    // How long a blocking read (write) may wait before it fails with
    // EAGAIN, in ns; 0 for ever (sockets' SO_RCVTIMEO / SO_SNDTIMEO).
    virtual uint64_t io_timeout_ns(bool write) const {
        (void)write;
        return 0;
    }
    // Whether a write failing with EPIPE raises SIGPIPE: pipes and stream
    // sockets do; datagram sockets only fail (Linux's unix_dgram_sendmsg).
    virtual bool sigpipe_on_epipe() const { return true; }
    // A read or write that returned EAGAIN may block until poll_events()
    // changes (pipes, eventfd, timerfd); the rest never block.
    virtual bool may_block() const { return false; }

    // ioctl(2) requests the generic code does not answer (FIONBIO,
    // FIONREAD, FIOCLEX are fs_io's): sockets' SIOCOUTQ and the like.
    // ENOTTY when the object has none.
    virtual Result<int64_t> ioctl(uint32_t cmd, uint64_t arg) {
        (void)cmd;
        (void)arg;
        return Error(Errno::kENOTTY);
    }

    // Safe downcasts (no RTTI): the in-memory tree's writable directories
    // and regular files.
    virtual Directory* as_directory() { return nullptr; }
    virtual RegularFile* as_regular() { return nullptr; }
    virtual Epoll* as_epoll() { return nullptr; }
    // Types defined outside kernel/fs (timerfd) downcast by comparing a
    // tag of their own (the address of a private object) with this.
    virtual const void* kind_tag() const { return nullptr; }

    Metadata meta;

    // Inodes live on the kernel heap (mm::make / mm::destroy); a virtual
    // destructor needs an operator delete, and this one frees to that heap
    // (the kernel has no global one).
    static void operator delete(void* p);

protected:
    virtual void on_last_release() {}

private:
    uint32_t refs_ = 1;
};

// Drops a reference if p is not null.
inline void release(Inode* p) {
    if (p != nullptr) p->release();
}

}  // namespace kiln::fs
