// Futex wait queues keyed by user address (one address space, so private
// and shared futexes are the same). The syscall rules are in
// linux/futex_op.h and linux/misc.cpp.
#pragma once

#include <stdint.h>

namespace kiln::sched {

enum class FutexWaitResult { kWoken, kTimedOut, kInterrupted };

// Blocks the current thread on addr until a wake with a matching bitset,
// the monotonic deadline (kWaitForever: none) or a signal (when
// interrupted() says one is pending). The caller has just checked the word:
// nothing else runs in between (one CPU, no preemption in the kernel).
FutexWaitResult futex_wait(uint64_t addr, uint32_t bitset, uint64_t deadline_ns,
                           bool (*interrupted)());
// Wakes up to n waiters on addr whose bitset intersects `bitset`; returns
// how many.
int futex_wake(uint64_t addr, int n, uint32_t bitset);
// Wakes up to n_wake waiters on addr and moves up to n_requeue of the rest
// to addr2; returns woken + moved.
int futex_requeue(uint64_t addr, int n_wake, uint64_t addr2, int n_requeue);

}  // namespace kiln::sched
