// Waiting for a condition: a blocking call (a read from an empty pipe,
// poll, epoll_wait, a timerfd read) waits until its condition holds, its
// deadline passes, or it is clear that nothing can ever make it hold.
//
// Objects that others wait on own a WaitQueue and call wake_all() whenever
// their state changes (from a system call or an interrupt). A waiter names
// the queues it waits on, a condition to re-check and a deadline.
//
// A waiter blocks (sched/thread.h) and re-checks its condition whenever a
// queue's wake_all() runs, its deadline passes, a signal arrives or, while
// the vCPU idles, after every interrupt. A wait with no deadline that
// nothing can end — one thread, no armed interrupt source — would never
// end; it is reported as a deadlock instead (kWaitDeadlock, logged once per
// call site) rather than hanging the VM.
//
// FIXME(threads): wake_all() wakes every thread blocked in wait(), not only
// those on the queue; exact per-queue waiter lists would save spurious
// re-checks once many threads wait on different objects.
#pragma once

#include <stddef.h>
#include <stdint.h>

namespace kiln::sched {

class WaitQueue {
public:
    // Wakes every waiter so that it re-checks its condition. Safe from
    // interrupt context.
    void wake_all();
    uint64_t generation() const { return generation_; }

private:
    volatile uint64_t generation_ = 0;
};

enum class WaitStatus {
    kReady,        // the condition holds
    kTimedOut,     // the deadline passed first
    kDeadlock,     // no deadline and nothing can make the condition hold
    kInterrupted,  // interrupted() said so (a signal to handle: EINTR)
};

inline constexpr uint64_t kWaitForever = ~uint64_t{0};

struct WaitRequest {
    WaitQueue* const* queues = nullptr;  // what the waiter sleeps on
    size_t queue_count = 0;
    uint64_t deadline_ns = kWaitForever;  // monotonic
    // Whether anything but the waiting thread can make the condition hold
    // (an armed timer now; other threads later).
    bool wakeable = false;
    // When set, asked instead of `wakeable` before every halt of a wait
    // with no deadline (what could end it may change while it waits: a
    // timer fires once and is gone).
    bool (*wakeable_now)(void* ctx) = nullptr;
    void* wakeable_ctx = nullptr;
    const char* what = "wait";  // for the deadlock report
    // Checked before halting and after every wake-up; true ends the wait
    // (the syscall layer passes "an unblocked signal is pending").
    // FIXME(signals): once host signals reach the guest, a wait with no
    // deadline can be ended by one and is no deadlock; count that in
    // `wakeable`.
    bool (*interrupted)() = nullptr;
};

// Blocks until ready(ctx) is true, the deadline passes or a deadlock is
// certain. ready() runs with interrupts disabled and must not block.
WaitStatus wait(const WaitRequest& req, bool (*ready)(void* ctx), void* ctx);

// The same with a lambda (no captures copied: it is called in place).
template <typename Ready>
WaitStatus wait(const WaitRequest& req, Ready&& ready) {
    return wait(
        req, [](void* p) { return (*static_cast<Ready*>(p))(); }, &ready);
}

}  // namespace kiln::sched
