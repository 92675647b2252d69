// One-thread waiting (wait.h): halt with interrupts enabled until the
// condition holds or the deadline timer fires.
#include "sched/wait.h"

#include "arch/x86_64/arch.h"
#include "arch/x86_64/clock.h"
#include "klog.h"
#include "sched/timer.h"

namespace kiln::sched {

namespace {

bool can_be_woken(const WaitRequest& req) {
    return req.wakeable_now != nullptr ? req.wakeable_now(req.wakeable_ctx) : req.wakeable;
}

void report_deadlock(const WaitRequest& req) {
    klog::error(
        "kiln: %s would block for ever: the process has one thread and no timer can make "
        "it ready (deadlock); returning EDEADLK",
        req.what);
}

}  // namespace

WaitStatus wait(const WaitRequest& req, bool (*ready)(void* ctx), void* ctx) {
    const bool was_enabled = arch::irq_enabled();
    arch::irq_disable();
    WaitStatus status;
    if (ready(ctx)) {
        status = WaitStatus::kReady;
    } else if (req.interrupted != nullptr && req.interrupted()) {
        status = WaitStatus::kInterrupted;
    } else if (req.deadline_ns == kWaitForever && !can_be_woken(req)) {
        report_deadlock(req);
        status = WaitStatus::kDeadlock;
    } else {
        Timer t;
        if (req.deadline_ns != kWaitForever) timer_start(&t, req.deadline_ns, [](Timer*) {});
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
            arch::wait_for_interrupt();
        }
        timer_cancel(&t);
    }
    if (was_enabled) arch::irq_enable();
    return status;
}

}  // namespace kiln::sched
