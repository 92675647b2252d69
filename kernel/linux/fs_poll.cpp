// Readiness system calls: poll(2), ppoll, select(2), pselect6 and the
// epoll(7) family. Readiness comes from each object's poll_events()
// (fs/poll.h); epoll instances keep ready lists fed by notifications
// (fs/epoll.h). Waiting is sched::wait (one thread: halt until an interrupt,
// EDEADLK when nothing could ever become ready).
//
// Waits end when an unblocked signal is pending (signal_interrupts_wait),
// with ppoll, pselect6 and epoll_pwait's mask in force while they wait. As
// in Linux, poll, select and their p-forms are restarted only when no
// handler ran (ERESTARTNOHAND; poll with a timeout: EINTR), epoll_wait
// always fails with EINTR.
// FIXME(threads): poll and select re-scan their descriptors on each wake;
// with threads they register a watcher on each object as epoll does.
#include <linux/fcntl.h>

#include "arch/x86_64/clock.h"
#include "fs/epoll.h"
#include "linux/fs_common.h"
#include "linux/signal_delivery.h"
#include "linux/signal_frame.h"
#include "linux/timerfd.h"
#include "linux/timespec.h"
#include "linux/user.h"
#include "mm/new.h"
#include "sched/process.h"
#include "sched/wait.h"

namespace kiln::sys {
namespace {

using fs::File;

int fd_arg(uint64_t v) {
    return static_cast<int>(static_cast<int32_t>(v));
}

// A relative timeout as a monotonic deadline (kWaitForever for none).
uint64_t deadline_after(uint64_t ns) {
    return ns == sched::kWaitForever ? ns : add_ns_saturating(arch::monotonic_ns(), ns);
}

uint64_t remaining(uint64_t deadline) {
    uint64_t now = arch::monotonic_ns();
    return deadline > now ? deadline - now : 0;
}

// Whether an interrupt could still make a poll or select ready: an
// object that changes on its own (an armed timerfd) or a signal.
bool fd_wakes(int fd) {
    auto f = fs::file_of_fd(fd);
    return f.ok() && (*f)->inode()->wakes_asynchronously();
}

// ---- poll ----

struct PollFd {
    int32_t fd;
    int16_t events;
    int16_t revents;
};
static_assert(sizeof(PollFd) == 8);

uint32_t revents_of(int fd, uint32_t events) {
    if (fd < 0) return 0;
    auto f = fs::file_of_fd(fd);
    if (!f.ok()) return fs::kPollNval;
    return (*f)->inode()->poll_events() & (events | fs::kPollErr | fs::kPollHup);
}

size_t scan_poll(PollFd* fds, size_t n) {
    size_t ready = 0;
    for (size_t i = 0; i < n; i++) {
        fds[i].revents =
            static_cast<int16_t>(revents_of(fds[i].fd, static_cast<uint16_t>(fds[i].events)));
        if (fds[i].revents != 0) ready++;
    }
    return ready;
}

// poll over nfds entries at ufds until the deadline; *deadline for ppoll's
// remaining time.
int64_t do_poll(uint64_t ufds, uint64_t nfds, uint64_t deadline) {
    if (nfds > static_cast<uint64_t>(fs::FdTable::kMaxFds)) return errno_result(Errno::kEINVAL);
    auto* fds = reinterpret_cast<PollFd*>(bounce());
    static_assert(sizeof(PollFd) * fs::FdTable::kMaxFds <= kBounceSize);
    if (nfds > 0) TRY_SYS(copy_from_user(fds, ufds, nfds * sizeof(PollFd)));
    deliver_deferred_notifications();
    size_t ready = scan_poll(fds, nfds);
    if (ready == 0 && deadline != 0) {
        sched::WaitRequest req;
        req.deadline_ns = deadline;
        struct Set {
            PollFd* fds;
            size_t n;
        } set = {fds, nfds};
        req.wakeable_ctx = &set;
        req.wakeable_now = [](void* p) {
            auto* s = static_cast<Set*>(p);
            for (size_t i = 0; i < s->n; i++) {
                if (fd_wakes(s->fds[i].fd)) return true;
            }
            return signal_can_arrive(sched::current().signal_mask);
        };
        req.what = "poll with no timeout";
        req.interrupted = signal_interrupts_wait;
        if (deadline == sched::kWaitForever && !signal_may_arrive() && req.wakeable_now(&set)) {
            bool objects = false;
            for (size_t i = 0; i < nfds && !objects; i++) objects = fd_wakes(fds[i].fd);
            if (!objects) note_waiting_for_host_signal(req.what);
        }
        auto st = sched::wait(req, [&] {
            deliver_deferred_notifications();
            ready = scan_poll(fds, nfds);
            return ready > 0;
        });
        if (st == sched::WaitStatus::kDeadlock) return errno_result(Errno::kEDEADLK);
        if (st == sched::WaitStatus::kInterrupted) return errno_result(Errno::kEINTR);
    }
    if (nfds > 0) TRY_SYS(copy_to_user(ufds, fds, nfds * sizeof(PollFd)));
    return static_cast<int64_t>(ready);
}

int64_t sys_poll(const SyscallArgs& a) {
    const int timeout_ms = static_cast<int>(static_cast<int32_t>(a.arg[2]));
    uint64_t deadline = timeout_ms < 0 ? sched::kWaitForever
                        : timeout_ms == 0
                            ? 0
                            : deadline_after(static_cast<uint64_t>(timeout_ms) * 1'000'000);
    int64_t r = do_poll(a.arg[0], a.arg[1], deadline);
    // Linux: restarted when no handler ran, unless a timeout was given
    // (ERESTART_RESTARTBLOCK, which kiln answers EINTR without restart_syscall).
    if (r == errno_result(Errno::kEINTR))
        return timeout_ms < 0 ? kErestartnohand : kErestartRestartblock;
    return r;
}

// A timespec timeout at uaddr (0: none) as a deadline: 0 means "do not
// wait", kWaitForever no timeout.
Result<uint64_t> timespec_deadline(uint64_t uaddr) {
    if (uaddr == 0) return sched::kWaitForever;
    auto ts = TRY(read_user<KernelTimespec>(uaddr));
    if (!timespec_valid(ts)) return Error(Errno::kEINVAL);
    uint64_t ns = timespec_to_ns(ts);
    return ns == 0 ? uint64_t{0} : deadline_after(ns);
}

int64_t sys_ppoll(const SyscallArgs& a) {
    uint64_t deadline = TRY_SYS(timespec_deadline(a.arg[2]));
    SignalMaskForWait mask;
    TRY_SYS(mask.install(a.arg[3], a.arg[4]));
    int64_t r = do_poll(a.arg[0], a.arg[1], deadline);
    const bool interrupted = r == errno_result(Errno::kEINTR);
    mask.finish(interrupted);
    // The time left goes back, so that a restart waits only for the rest.
    if ((r >= 0 || interrupted) && a.arg[2] != 0 && deadline != 0 &&
        deadline != sched::kWaitForever)
        (void)write_user(a.arg[2], ns_to_timespec(remaining(deadline)));
    return interrupted ? kErestartnohand : r;
}

// ---- select ----

constexpr int kFdSetBits = fs::FdTable::kMaxFds;  // FD_SETSIZE
constexpr size_t kFdSetWords = kFdSetBits / 64;

struct FdSets {
    uint64_t in[3][kFdSetWords];   // read, write, except as given
    uint64_t out[3][kFdSetWords];  // as answered
};

constexpr uint32_t kSelectWants[3] = {
    fs::kPollReadable | fs::kPollHup | fs::kPollErr,
    fs::kPollWritable | fs::kPollErr,
    fs::kPollPri,
};

bool bit(const uint64_t* set, int fd) {
    return set[fd / 64] >> (fd % 64) & 1;
}

// Fills out[] from in[]; the number of bits set in all three.
Result<int> scan_select(FdSets* s, int nfds) {
    int count = 0;
    __builtin_memset(s->out, 0, sizeof(s->out));
    for (int fd = 0; fd < nfds; fd++) {
        if (!bit(s->in[0], fd) && !bit(s->in[1], fd) && !bit(s->in[2], fd)) continue;
        File* f = TRY(fs::file_of_fd(fd));
        uint32_t ev = f->inode()->poll_events();
        for (int k = 0; k < 3; k++) {
            if (bit(s->in[k], fd) && (ev & kSelectWants[k])) {
                s->out[k][fd / 64] |= uint64_t{1} << (fd % 64);
                count++;
            }
        }
    }
    return count;
}

int64_t do_select(int nfds, const uint64_t usets[3], uint64_t deadline) {
    if (nfds < 0) return errno_result(Errno::kEINVAL);
    if (nfds > kFdSetBits) nfds = kFdSetBits;
    auto* s = reinterpret_cast<FdSets*>(bounce());
    static_assert(sizeof(FdSets) <= kBounceSize);
    __builtin_memset(s->in, 0, sizeof(s->in));
    const size_t bytes = (static_cast<size_t>(nfds) + 63) / 64 * 8;
    for (int k = 0; k < 3; k++) {
        if (usets[k] != 0 && bytes > 0) TRY_SYS(copy_from_user(s->in[k], usets[k], bytes));
    }
    deliver_deferred_notifications();
    int ready = TRY_SYS(scan_select(s, nfds));
    if (ready == 0 && deadline != 0) {
        sched::WaitRequest req;
        req.deadline_ns = deadline;
        struct Sets {
            FdSets* s;
            int nfds;
        } sets = {s, nfds};
        req.wakeable_ctx = &sets;
        req.wakeable_now = [](void* p) {
            auto* w = static_cast<Sets*>(p);
            for (int fd = 0; fd < w->nfds; fd++) {
                bool in = bit(w->s->in[0], fd) || bit(w->s->in[1], fd) || bit(w->s->in[2], fd);
                if (in && fd_wakes(fd)) return true;
            }
            return signal_can_arrive(sched::current().signal_mask);
        };
        req.what = "select with no timeout";
        req.interrupted = signal_interrupts_wait;
        if (deadline == sched::kWaitForever && !signal_may_arrive() && req.wakeable_now(&sets)) {
            bool objects = false;
            for (int fd = 0; fd < nfds && !objects; fd++) {
                bool in = bit(s->in[0], fd) || bit(s->in[1], fd) || bit(s->in[2], fd);
                objects = in && fd_wakes(fd);
            }
            if (!objects) note_waiting_for_host_signal(req.what);
        }
        Errno failed = Errno::kEINVAL;
        bool fail = false;
        auto st = sched::wait(req, [&] {
            deliver_deferred_notifications();
            auto r = scan_select(s, nfds);
            if (!r.ok()) {
                fail = true;
                failed = r.error();
                return true;
            }
            ready = *r;
            return ready > 0;
        });
        if (fail) return errno_result(failed);
        if (st == sched::WaitStatus::kDeadlock) return errno_result(Errno::kEDEADLK);
        if (st == sched::WaitStatus::kInterrupted) return errno_result(Errno::kEINTR);
    }
    for (int k = 0; k < 3; k++) {
        if (usets[k] != 0 && bytes > 0) TRY_SYS(copy_to_user(usets[k], s->out[k], bytes));
    }
    return ready;
}

int64_t sys_select(const SyscallArgs& a) {
    uint64_t deadline = sched::kWaitForever;
    if (a.arg[4] != 0) {
        auto tv = TRY_SYS(read_user<KernelTimeval>(a.arg[4]));
        if (!timeval_valid(tv)) return errno_result(Errno::kEINVAL);
        uint64_t ns = timeval_to_ns(tv);
        deadline = ns == 0 ? 0 : deadline_after(ns);
    }
    const uint64_t sets[3] = {a.arg[1], a.arg[2], a.arg[3]};
    int64_t r = do_select(fd_arg(a.arg[0]), sets, deadline);
    const bool interrupted = r == errno_result(Errno::kEINTR);
    // Linux writes back the time not slept.
    if ((r >= 0 || interrupted) && a.arg[4] != 0 && deadline != 0 &&
        deadline != sched::kWaitForever)
        (void)write_user(a.arg[4], ns_to_timeval(remaining(deadline)));
    return interrupted ? kErestartnohand : r;
}

int64_t sys_pselect6(const SyscallArgs& a) {
    struct {
        uint64_t set;
        uint64_t size;
    } sig = {0, 0};
    if (a.arg[5] != 0) {
        auto r = read_user<decltype(sig)>(a.arg[5]);
        if (!r.ok()) return errno_result(r.error());
        sig = *r;
    }
    uint64_t deadline = TRY_SYS(timespec_deadline(a.arg[4]));
    SignalMaskForWait mask;
    TRY_SYS(mask.install(sig.set, sig.size));
    const uint64_t sets[3] = {a.arg[1], a.arg[2], a.arg[3]};
    int64_t r = do_select(fd_arg(a.arg[0]), sets, deadline);
    const bool interrupted = r == errno_result(Errno::kEINTR);
    mask.finish(interrupted);
    if ((r >= 0 || interrupted) && a.arg[4] != 0 && deadline != 0 &&
        deadline != sched::kWaitForever)
        (void)write_user(a.arg[4], ns_to_timespec(remaining(deadline)));
    return interrupted ? kErestartnohand : r;
}

// ---- epoll ----

int64_t new_epoll(bool cloexec) {
    auto* ep = mm::make<fs::Epoll>();
    if (ep == nullptr) return errno_result(Errno::kENOMEM);
    File* f = File::make(ep, O_RDWR, "anon_inode:[eventpoll]");
    if (f == nullptr) {
        ep->release();
        return errno_result(Errno::kENOMEM);
    }
    auto fd = fs::fd_table().install(f, cloexec);
    f->release();
    return to_syscall_result(fd);
}

int64_t sys_epoll_create(const SyscallArgs& a) {
    if (static_cast<int32_t>(a.arg[0]) <= 0) return errno_result(Errno::kEINVAL);
    return new_epoll(false);
}

int64_t sys_epoll_create1(const SyscallArgs& a) {
    const uint32_t flags = static_cast<uint32_t>(a.arg[0]);
    if (flags & ~static_cast<uint32_t>(O_CLOEXEC)) return errno_result(Errno::kEINVAL);
    return new_epoll(flags & O_CLOEXEC);
}

Result<fs::Epoll*> epoll_of_fd(int fd) {
    File* f = TRY(fs::file_of_fd(fd));
    fs::Epoll* ep = f->inode()->as_epoll();
    if (ep == nullptr) return Error(Errno::kEINVAL);
    return ep;
}

int64_t sys_epoll_ctl(const SyscallArgs& a) {
    const int op = static_cast<int>(a.arg[1]);
    const int fd = fd_arg(a.arg[2]);
    File* epf = TRY_SYS(fs::file_of_fd(fd_arg(a.arg[0])));
    File* target = TRY_SYS(fs::file_of_fd(fd));
    fs::Epoll* ep = epf->inode()->as_epoll();
    if (ep == nullptr) return errno_result(Errno::kEINVAL);
    fs::EpollEvent ev{0, 0};
    if (op != fs::kEpollCtlDel) ev = TRY_SYS(read_user<fs::EpollEvent>(a.arg[3]));
    return to_syscall_result(ep->ctl(op, fd, target, ev.events, ev.data));
}

constexpr int kMaxEventsPerCall = static_cast<int>(kBounceSize / sizeof(fs::EpollEvent));

int64_t do_epoll_wait(int epfd, uint64_t uevents, int maxevents, uint64_t deadline) {
    if (maxevents <= 0 || maxevents > 0x7fffffff / static_cast<int>(sizeof(fs::EpollEvent)))
        return errno_result(Errno::kEINVAL);
    fs::Epoll* ep = TRY_SYS(epoll_of_fd(epfd));
    if (maxevents > kMaxEventsPerCall) maxevents = kMaxEventsPerCall;
    auto* out = reinterpret_cast<fs::EpollEvent*>(bounce());
    for (;;) {
        deliver_deferred_notifications();
        size_t n = ep->collect(out, static_cast<size_t>(maxevents));
        if (n > 0) {
            TRY_SYS(copy_to_user(uevents, out, n * sizeof(fs::EpollEvent)));
            return static_cast<int64_t>(n);
        }
        if (deadline == 0) return 0;
        bool ready =
            TRY_SYS(wait_for_events(ep, fs::kPollIn, deadline, "epoll_wait with no timeout", true));
        if (!ready) return 0;
    }
}

uint64_t ms_deadline(int timeout_ms) {
    return timeout_ms < 0    ? sched::kWaitForever
           : timeout_ms == 0 ? 0
                             : deadline_after(static_cast<uint64_t>(timeout_ms) * 1'000'000);
}

int64_t sys_epoll_wait(const SyscallArgs& a) {
    return do_epoll_wait(fd_arg(a.arg[0]), a.arg[1], static_cast<int>(a.arg[2]),
                         ms_deadline(static_cast<int>(a.arg[3])));
}

int64_t sys_epoll_pwait(const SyscallArgs& a) {
    SignalMaskForWait mask;
    TRY_SYS(mask.install(a.arg[4], a.arg[5]));
    int64_t r = do_epoll_wait(fd_arg(a.arg[0]), a.arg[1], static_cast<int>(a.arg[2]),
                              ms_deadline(static_cast<int>(a.arg[3])));
    mask.finish(r == errno_result(Errno::kEINTR));
    return r;
}

int64_t sys_epoll_pwait2(const SyscallArgs& a) {
    uint64_t deadline = TRY_SYS(timespec_deadline(a.arg[3]));
    SignalMaskForWait mask;
    TRY_SYS(mask.install(a.arg[4], a.arg[5]));
    int64_t r = do_epoll_wait(fd_arg(a.arg[0]), a.arg[1], static_cast<int>(a.arg[2]), deadline);
    mask.finish(r == errno_result(Errno::kEINTR));
    return r;
}

}  // namespace

// clang-format off
const SyscallDef kFsPoll[] = {
    {__NR_poll, "poll", sys_poll, {Arg::kPtr, Arg::kUInt, Arg::kInt}},
    {__NR_ppoll, "ppoll", sys_ppoll, {Arg::kPtr, Arg::kUInt, Arg::kPtr, Arg::kPtr, Arg::kUInt}},
    {__NR_select, "select", sys_select, {Arg::kInt, Arg::kPtr, Arg::kPtr, Arg::kPtr, Arg::kPtr}},
    {__NR_pselect6, "pselect6", sys_pselect6, {Arg::kInt, Arg::kPtr, Arg::kPtr, Arg::kPtr, Arg::kPtr, Arg::kPtr}},
    {__NR_epoll_create, "epoll_create", sys_epoll_create, {Arg::kInt}},
    {__NR_epoll_create1, "epoll_create1", sys_epoll_create1, {Arg::kHex}},
    {__NR_epoll_ctl, "epoll_ctl", sys_epoll_ctl, {Arg::kFd, Arg::kInt, Arg::kFd, Arg::kPtr}},
    {__NR_epoll_wait, "epoll_wait", sys_epoll_wait, {Arg::kFd, Arg::kPtr, Arg::kInt, Arg::kInt}},
    {__NR_epoll_pwait, "epoll_pwait", sys_epoll_pwait, {Arg::kFd, Arg::kPtr, Arg::kInt, Arg::kInt, Arg::kPtr, Arg::kUInt}},
    {__NR_epoll_pwait2, "epoll_pwait2", sys_epoll_pwait2, {Arg::kFd, Arg::kPtr, Arg::kInt, Arg::kPtr, Arg::kPtr, Arg::kUInt}},
};
// clang-format on
extern const SyscallFamily kFsPollFamily = {kFsPoll, sizeof(kFsPoll) / sizeof(kFsPoll[0])};

}  // namespace kiln::sys
