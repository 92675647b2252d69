// Futex wait queues (futex.h): hash buckets of waiters that live on the
// waiting threads' kernel stacks, in FIFO order.
#include "sched/futex.h"

#include "arch/x86_64/arch.h"
#include "sched/thread.h"
#include "sched/wait.h"

namespace kiln::sched {
namespace {

struct Waiter {
    uint64_t addr;
    uint32_t bitset;
    Thread* thread;
    bool woken;
    Waiter* next;
};

constexpr int kBuckets = 64;
Waiter* buckets[kBuckets];

Waiter** bucket(uint64_t addr) { return &buckets[(addr >> 2) % kBuckets]; }

void append(Waiter* w) {
    Waiter** p = bucket(w->addr);
    while (*p) p = &(*p)->next;
    w->next = nullptr;
    *p = w;
}

void remove(Waiter* w) {
    for (Waiter** p = bucket(w->addr); *p; p = &(*p)->next) {
        if (*p == w) {
            *p = w->next;
            return;
        }
    }
}

}  // namespace

FutexWaitResult futex_wait(uint64_t addr, uint32_t bitset, uint64_t deadline_ns,
                           bool (*interrupted)()) {
    arch::IrqGuard guard;
    Waiter w{addr, bitset, current_thread(), false, nullptr};
    append(&w);
    FutexWaitResult result;
    for (;;) {
        if (w.woken) {
            result = FutexWaitResult::kWoken;
            break;
        }
        if (interrupted != nullptr && interrupted()) {
            result = FutexWaitResult::kInterrupted;
            break;
        }
        if (!block(deadline_ns, interrupted != nullptr) && deadline_ns != kWaitForever &&
            !w.woken && !(interrupted != nullptr && interrupted())) {
            result = FutexWaitResult::kTimedOut;
            break;
        }
    }
    if (!w.woken) remove(&w);
    return result;
}

int futex_wake(uint64_t addr, int n, uint32_t bitset) {
    arch::IrqGuard guard;
    int count = 0;
    Waiter** p = bucket(addr);
    while (*p && count < n) {
        Waiter* w = *p;
        if (w->addr == addr && (w->bitset & bitset) != 0) {
            *p = w->next;
            w->woken = true;
            wake(w->thread);
            count++;
        } else {
            p = &w->next;
        }
    }
    return count;
}

int futex_requeue(uint64_t addr, int n_wake, uint64_t addr2, int n_requeue) {
    arch::IrqGuard guard;
    int count = futex_wake(addr, n_wake, ~0u);
    int moved = 0;
    Waiter** p = bucket(addr);
    while (*p && moved < n_requeue) {
        Waiter* w = *p;
        if (w->addr == addr) {
            *p = w->next;
            w->addr = addr2;
            append(w);
            moved++;
        } else {
            p = &w->next;
        }
    }
    return count + moved;
}

}  // namespace kiln::sched
