// Waiting (wait.h): block the thread until the condition holds, the
// deadline passes or a signal arrives; other threads run meanwhile.
#include "sched/wait.h"

#include "arch/x86_64/arch.h"
#include "arch/x86_64/clock.h"
#include "klog.h"
#include "sched/thread.h"
#include "sched/timer.h"

namespace kiln::sched {

namespace {

bool can_be_woken(const WaitRequest& req) {
    if (live_threads() > 1) return true;  // another thread may change it
    return req.wakeable_now != nullptr ? req.wakeable_now(req.wakeable_ctx) : req.wakeable;
}

void report_deadlock(const WaitRequest& req) {
    klog::error(
        "kiln: %s would block for ever: the process has one thread and no timer can make "
        "it ready (deadlock); returning EDEADLK",
        req.what);
}

}  // namespace

void WaitQueue::wake_all() {
    generation_ = generation_ + 1;
    wake_waiters();
}

WaitStatus wait(const WaitRequest& req, bool (*ready)(void* ctx), void* ctx) {
    const bool was_enabled = arch::irq_enabled();
    arch::irq_disable();
    WaitStatus status;
    Thread* self = current_thread();
    for (;;) {
        if (ready(ctx)) {
            status = WaitStatus::kReady;
            break;
        }
        if (req.interrupted != nullptr && req.interrupted()) {
            status = WaitStatus::kInterrupted;
            break;
        }
        if (req.deadline_ns != kWaitForever && arch::monotonic_ns() >= req.deadline_ns) {
            status = WaitStatus::kTimedOut;
            break;
        }
        if (req.deadline_ns == kWaitForever && !can_be_woken(req)) {
            report_deadlock(req);
            status = WaitStatus::kDeadlock;
            break;
        }
        self->in_wait = true;
        block(req.deadline_ns, req.interrupted != nullptr);
        self->in_wait = false;
    }
    if (was_enabled) arch::irq_enable();
    return status;
}

}  // namespace kiln::sched
