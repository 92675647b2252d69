// One-shot kernel timers on one event source (the APIC timer): a list
// sorted by deadline, the hardware armed only for the earliest. No tick.
#pragma once

#include <stdint.h>

namespace kiln::sched {

struct Timer {
    uint64_t deadline_ns = 0;  // monotonic
    void (*fire)(Timer*) = nullptr;
    Timer* next = nullptr;
    bool armed = false;
};

// Arms t (re-arms it if armed). fire runs in interrupt context.
void timer_start(Timer* t, uint64_t deadline_ns, void (*fire)(Timer*));
void timer_cancel(Timer* t);

// Halts until the monotonic clock reaches deadline_ns.
void sleep_until(uint64_t deadline_ns);

}  // namespace kiln::sched
