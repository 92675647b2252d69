// Shared pieces of the fs syscalls (fs_common.h).
#include "linux/fs_common.h"

#include "sched/thread.h"

#include <linux/fcntl.h>

#include "arch/x86_64/clock.h"
#include "fs/tree.h"
#include "klog.h"
#include "linux/process_state.h"
#include "linux/signal_delivery.h"
#include "linux/signal_frame.h"
#include "linux/sigset.h"
#include "linux/timerfd.h"
#include "linux/user.h"
#include "mm/heap.h"
#include "net/service.h"
#include "sched/process.h"
#include "sched/wait.h"

namespace kiln::sys {
namespace {

// One bounce buffer: the kernel runs one system call at a time.
constexpr size_t kBounce = 64 * 1024;
alignas(4096) uint8_t g_bounce[kBounce];

}  // namespace

static_assert(kBounce == sched::kIoBufferSize);

// Per thread: a thread may block half-way through (a pipe write waiting for
// room) while another thread does I/O of its own.
uint8_t* bounce() {
    uint8_t* b = sched::current_thread()->io_buffer;
    return b != nullptr ? b : g_bounce;
}

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

bool signal_interrupts_wait() { return signal_ready(); }

void deliver_deferred_notifications() {
    timerfd_deliver_notifications();
    net::service_run();
}

int64_t restart_if_interrupted(int64_t r) {
    return r == errno_result(Errno::kEINTR) ? kErestartsys : r;
}

bool signal_may_arrive() {
    // As signal.cpp's wait_for_signal sees it: one thread, no other
    // process, so only an armed ITIMER_REAL can send one (and its SIGALRM
    // ends a wait only when not blocked).
    // FIXME(signals): share one answer with signal.cpp (host signals too).
    const sched::Process& p = sched::current();
    return p.posix.itimers[kItimerReal].deadline_ns != 0 && !(p.signal_mask & sigbit(kSigAlrm));
}

Result<void> SignalMaskForWait::install(uint64_t umask, uint64_t size) {
    if (umask == 0) return {};
    if (size != sizeof(uint64_t)) return Error(Errno::kEINVAL);
    uint64_t mask = TRY(read_user<uint64_t>(umask));
    sched::Process& p = sched::current();
    old_ = p.signal_mask;
    p.signal_mask = mask & ~kUnblockable;
    active_ = true;
    return {};
}

void SignalMaskForWait::finish(bool interrupted) {
    if (!active_) return;
    sched::Process& p = sched::current();
    if (interrupted) {
        // The wait's mask stays until the handler's frame has recorded the
        // old one (Linux's restore_saved_sigmask_unless).
        p.posix.saved_mask = old_;
        p.posix.restore_mask = true;
    } else {
        p.signal_mask = old_;
    }
    active_ = false;
}

void note_waiting_for_host_signal(const char* what) {
    static bool said = false;
    // Another thread can still write the descriptor (bench/sched's eventfd).
    if (said || sched::live_threads() > 1) return;
    said = true;
    klog::warn("kiln: %s waits on descriptors nothing can make ready; only a signal from the host can end it",
               what);
}

Result<bool> wait_for_events(fs::Inode* in, uint32_t want, uint64_t deadline_ns, const char* what,
                             bool any_signal) {
    // The object's watchers wake the queue; with one thread the halt ends
    // on any interrupt anyway, but this is where a blocked thread hooks in.
    struct Waker {
        fs::PollWatcher watch;  // first: notify casts back
        sched::WaitQueue queue;
    } waker;
    waker.watch.notify = [](fs::PollWatcher* w, uint32_t) {
        // SAFETY: watch is the first member of the standard-layout Waker.
        reinterpret_cast<Waker*>(w)->queue.wake_all();
    };
    fs::PollWatchers* watchers = in->poll_watchers();
    if (watchers != nullptr) watchers->add(&waker.watch);
    sched::WaitQueue* queues[] = {&waker.queue};
    sched::WaitRequest req;
    req.queues = queues;
    req.queue_count = 1;
    req.deadline_ns = deadline_ns;
    if (any_signal) {
        req.wakeable_now = [](void* p) {
            return static_cast<fs::Inode*>(p)->wakes_asynchronously() ||
                   signal_can_arrive(sched::current().signal_mask);
        };
        if (deadline_ns == sched::kWaitForever && !in->wakes_asynchronously() && !signal_may_arrive() &&
            signal_can_arrive(sched::current().signal_mask))
            note_waiting_for_host_signal(what);
    } else {
        req.wakeable_now = [](void* p) {
            return static_cast<fs::Inode*>(p)->wakes_asynchronously() || signal_may_arrive();
        };
    }
    req.wakeable_ctx = in;
    req.what = what;
    req.interrupted = signal_interrupts_wait;
    auto st = sched::wait(req, [&] {
        deliver_deferred_notifications();
        return (in->poll_events() & want) != 0;
    });
    if (watchers != nullptr) watchers->remove(&waker.watch);
    if (st == sched::WaitStatus::kDeadlock) return Error(Errno::kEDEADLK);
    if (st == sched::WaitStatus::kInterrupted) return Error(Errno::kEINTR);
    return st == sched::WaitStatus::kReady;
}

namespace {

constexpr int kSigPipe = 13;

// A socket's SO_RCVTIMEO / SO_SNDTIMEO as a deadline for read/write.
uint64_t io_deadline(fs::Inode* in, bool write) {
    uint64_t t = in->io_timeout_ns(write);
    if (t == 0) return sched::kWaitForever;
    uint64_t now = arch::monotonic_ns();
    return now + t < now ? sched::kWaitForever : now + t;
}

bool would_block(fs::File* f, Errno e) {
    return e == Errno::kEAGAIN && f->inode()->may_block() && !(f->flags & O_NONBLOCK);
}

// SIGPIPE for a write to a pipe without readers, through the signal
// family's own tgkill (which ignores, keeps it pending, or ends the
// process as the disposition says).
void raise_sigpipe() {
    const sched::Process& p = sched::current();
    const int32_t tid = sched::current_thread()->tid;
    SyscallArgs a = {{static_cast<uint64_t>(p.pid), static_cast<uint64_t>(tid), kSigPipe, 0, 0, 0}};
    (void)dispatch(__NR_tgkill, a);
}

}  // namespace

Result<size_t> file_read(fs::File* f, void* buf, size_t n, uint64_t* pos) {
    if (!f->readable()) return Error(Errno::kEBADF);
    fs::Inode* in = f->inode();
    if (in->type() == fs::InodeType::kDirectory) return Error(Errno::kEISDIR);
    uint64_t off = pos != nullptr ? *pos : f->offset;
    const uint64_t deadline = io_deadline(in, false);
    for (;;) {
        auto r = in->read_at(off, buf, n);
        if (!r.ok() && would_block(f, r.error())) {
            bool ready = TRY(wait_for_events(in, fs::kPollReadable | fs::kPollHup | fs::kPollErr, deadline,
                                             "a blocking read"));
            if (!ready) return Error(Errno::kEAGAIN);  // SO_RCVTIMEO passed
            continue;
        }
        if (!r.ok()) return Error(r.error());
        if (pos != nullptr)
            *pos = off + *r;
        else if (in->seekable())
            f->offset = off + *r;
        return *r;
    }
}

Result<size_t> file_write(fs::File* f, const void* buf, size_t n, uint64_t* pos) {
    if (!f->writable()) return Error(Errno::kEBADF);
    fs::Inode* in = f->inode();
    uint64_t off = pos != nullptr ? *pos : f->offset;
    // O_APPEND: every write goes to the end (pwrite too, as on Linux).
    if ((f->flags & O_APPEND) && in->seekable()) off = in->size();
    if (!in->may_block()) {
        size_t w = TRY(in->write_at(off, buf, n));
        if (pos != nullptr)
            *pos = off + w;
        else if (in->seekable())
            f->offset = off + w;
        return w;
    }
    const uint64_t deadline = io_deadline(in, true);
    // Pipes and counters: a blocking write goes on until all of it is in;
    // a non-blocking one takes what fits (write(2), pipe(7)).
    size_t done = 0;
    const auto* p = static_cast<const uint8_t*>(buf);
    while (done < n || n == 0) {
        auto w = in->write_at(off, p + done, n - done);
        if (w.ok()) {
            done += *w;
            if (n == 0) break;
            continue;
        }
        if (w.error() == Errno::kEPIPE && done == 0 && in->sigpipe_on_epipe()) raise_sigpipe();
        if (!would_block(f, w.error())) {
            if (done > 0) break;
            return Error(w.error());
        }
        auto waited = wait_for_events(in, fs::kPollWritable | fs::kPollErr, deadline, "a blocking write");
        if (!waited.ok() || !*waited) {
            if (done > 0) break;
            return Error(waited.ok() ? Errno::kEAGAIN : waited.error());  // SO_SNDTIMEO passed
        }
    }
    return done;
}

Result<size_t> file_read_user(fs::File* f, uint64_t ubuf, size_t n, uint64_t* pos) {
    if (n > kMaxRw) n = kMaxRw;
    size_t done = 0;
    bool stream = !f->inode()->seekable();
    while (done < n || n == 0) {
        size_t chunk = n - done < kBounce ? n - done : kBounce;
        auto r = file_read(f, bounce(), chunk, pos);
        if (!r.ok()) {
            if (done > 0) break;
            return r;
        }
        if (*r > 0) {
            auto c = copy_to_user(ubuf + done, bounce(), *r);
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
        auto c = copy_from_user(bounce(), ubuf + done, chunk);
        if (!c.ok()) {
            if (done > 0) break;
            return Error(c.error());
        }
        auto w = file_write(f, bounce(), chunk, pos);
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
