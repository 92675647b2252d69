// Shared pieces of the fs syscall families (fs_io.cpp, fs_fd.cpp,
// fs_path.cpp, fs_stat.cpp): user paths, *at() start directories, the
// read/write core over a kernel buffer.
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "fs/fd.h"
#include "fs/file.h"
#include "fs/path.h"
#include "linux/syscall.h"

// TRY for syscall handlers: on error, return the negative errno.
#define TRY_SYS(expr)                                                             \
    ({                                                                            \
        auto _try_sys = (expr);                                                   \
        if (!_try_sys.ok()) return ::kiln::sys::errno_result(_try_sys.error());   \
        _try_sys.release_value();                                                 \
    })

namespace kiln::sys {

// A path copied in from the application (heap, PATH_MAX bytes).
class UserPath {
public:
    UserPath() = default;
    ~UserPath();
    UserPath(const UserPath&) = delete;
    UserPath& operator=(const UserPath&) = delete;
    // EFAULT, ENAMETOOLONG (no NUL within PATH_MAX), ENOMEM.
    Result<void> copy_in(uint64_t uaddr);
    const char* c_str() const { return buf_; }
    bool empty() const { return buf_ == nullptr || buf_[0] == '\0'; }

private:
    char* buf_ = nullptr;
};

inline constexpr int kAtFdCwd = -100;

// Where a relative path starts for dirfd (AT_FDCWD or a directory fd), not
// retained. EBADF for a bad fd, ENOTDIR for a non-directory. Absolute
// paths ignore dirfd (returns the cwd without checking it).
Result<fs::Inode*> start_dir(int dirfd, const char* path);

// The inode an fd refers to, or dirfd itself for AT_EMPTY_PATH with "",
// or the path's node otherwise; retained. follow: resolve a final symlink.
Result<fs::Inode*> lookup_at(int dirfd, uint64_t upath, bool follow, bool empty_path_ok);

// The current process's fs context.
inline const fs::FsContext& fs_ctx() { return fs::fs_context(); }

// Reads/writes through a File with kernel buffers. pos: explicit offset
// (pread/pwrite), or nullptr to use and advance the File's offset.
Result<size_t> file_read(fs::File* f, void* buf, size_t n, uint64_t* pos);
Result<size_t> file_write(fs::File* f, const void* buf, size_t n, uint64_t* pos);
// Blocks until the inode's readiness has one of `want` (fs/poll.h bits):
// true, or false when the monotonic deadline passed first (~0: none);
// EDEADLK when nothing can ever provide it (sched/wait.h).
// What interrupts left for system-call context: timerfd expirations and
// the network's received frames and timers, each telling its watchers.
// Every wait's ready() check runs it first.
void deliver_deferred_notifications();
// For sched::WaitRequest::interrupted: an unblocked signal is pending, so
// a blocking call ends with EINTR.
bool signal_interrupts_wait();
// Whether a signal could still arrive during a wait (an armed timer):
// such a wait has something to end it.
bool signal_may_arrive();

// A blocking read or write a signal cut short before any data moved:
// restarted after a handler with SA_RESTART, else EINTR (Linux's
// -ERESTARTSYS, settled by the signal delivery on the way out).
int64_t restart_if_interrupted(int64_t r);

// ppoll, pselect6 and epoll_pwait's temporary signal mask: in force for
// the wait; kept after an EINTR until the signal's handler has run (then
// the old one comes back), dropped at once otherwise.
class SignalMaskForWait {
public:
    // umask 0: no mask given. EINVAL for a size other than 8, EFAULT.
    Result<void> install(uint64_t umask, uint64_t size);
    void finish(bool interrupted);
    ~SignalMaskForWait() { finish(false); }

private:
    uint64_t old_ = 0;
    bool active_ = false;
};
// any_signal: a signal from the host also counts as something that can end
// the wait (poll, select and epoll_wait double as "wait for a signal");
// reads and writes count only the process's own timer.
Result<bool> wait_for_events(fs::Inode* in, uint32_t want, uint64_t deadline_ns, const char* what,
                             bool any_signal = false);
// For a wait that only a signal from the host can end: says so once.
void note_waiting_for_host_signal(const char* what);
// The same to and from application memory, in chunks.
Result<size_t> file_read_user(fs::File* f, uint64_t ubuf, size_t n, uint64_t* pos);
Result<size_t> file_write_user(fs::File* f, uint64_t ubuf, size_t n, uint64_t* pos);

inline constexpr size_t kMaxRw = 0x7ffff000;  // MAX_RW_COUNT

// The shared kernel bounce buffer (one system call runs at a time); the
// read/write helpers above use it, so callers of bounce() use the kernel-
// buffer variants only.
uint8_t* bounce();
inline constexpr size_t kBounceSize = 64 * 1024;

}  // namespace kiln::sys
