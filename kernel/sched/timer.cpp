#include "sched/timer.h"

#include "arch/x86_64/arch.h"
#include "arch/x86_64/clock.h"
#include "arch/x86_64/lapic.h"
#include "sched/thread.h"

namespace kiln::sched {
namespace {

Timer* head = nullptr;  // sorted by deadline; guarded by masking interrupts

void program_hardware();

void expire() {
    uint64_t now = arch::monotonic_ns();
    while (head && head->deadline_ns <= now) {
        Timer* t = head;
        head = t->next;
        t->armed = false;
        t->next = nullptr;
        if (t->fire) t->fire(t);
    }
    program_hardware();
}

void program_hardware() {
    if (head) {
        arch::timer_arm(head->deadline_ns, expire);
    } else {
        arch::timer_disarm();
    }
}

void unlink(Timer* t) {
    for (Timer** p = &head; *p; p = &(*p)->next) {
        if (*p == t) {
            *p = t->next;
            break;
        }
    }
    t->next = nullptr;
    t->armed = false;
}

}  // namespace

void timer_start(Timer* t, uint64_t deadline_ns, void (*fire)(Timer*)) {
    arch::IrqGuard guard;
    if (t->armed) unlink(t);
    t->deadline_ns = deadline_ns;
    t->fire = fire;
    Timer** p = &head;
    while (*p && (*p)->deadline_ns <= deadline_ns) p = &(*p)->next;
    t->next = *p;
    *p = t;
    t->armed = true;
    if (head == t) program_hardware();
}

void timer_cancel(Timer* t) {
    arch::IrqGuard guard;
    if (!t->armed) return;
    bool was_first = head == t;
    unlink(t);
    if (was_first) program_hardware();
}

void sleep_until(uint64_t deadline_ns) {
    const bool was_enabled = arch::irq_enabled();
    arch::irq_disable();
    while (arch::monotonic_ns() < deadline_ns) block(deadline_ns, false);
    if (was_enabled) arch::irq_enable();
}

}  // namespace kiln::sched
