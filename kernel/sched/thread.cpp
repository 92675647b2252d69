// The scheduler (thread.h).
#include "sched/thread.h"

#include <stddef.h>

#include "arch/x86_64/arch.h"
#include "arch/x86_64/clock.h"
#include "arch/x86_64/fpu.h"
#include "arch/x86_64/paging.h"
#include "mm/memory.h"
#include "mm/heap.h"
#include "mm/new.h"
#include "sched/process.h"
#include "sched/wait.h"

extern "C" char kiln_boot_stack_top[];

namespace kiln::sched {
namespace {

constexpr uint64_t kKernelStackSize = 32 * 1024;
constexpr uint64_t kSliceNs = 10'000'000;

Thread main_thread = [] {
    Thread t;
    t.tid = 1;
    t.kstack_top = reinterpret_cast<uint64_t>(kiln_boot_stack_top);
    return t;
}();

Thread* cur = &main_thread;
Thread* all = &main_thread;
Thread* run_head = nullptr;
Thread* run_tail = nullptr;
Thread* dead = nullptr;  // exited, stacks not yet freed (linked by run_next)
int live = 1;
int32_t next_tid = 2;
Timer slice;
volatile bool need_resched = false;

// Kernel stacks live in slots of the stack window, each above an unmapped
// guard page (an overflow faults instead of overwriting the heap). A slot
// stays mapped once made and is reused by later threads.
constexpr uint64_t kSlotSize = kKernelStackSize + 4096;
uint64_t free_stacks[256];  // tops of unused, mapped slots
int free_stack_count = 0;
uint64_t next_slot = arch::kKernelStackWindowBase;

uint64_t take_stack() {
    if (free_stack_count > 0) return free_stacks[--free_stack_count];
    if (next_slot + kSlotSize > arch::kKernelStackWindowBase + arch::kKernelStackWindowSize) return 0;
    auto frames = mm::frames().alloc(kKernelStackSize / 4096);
    if (!frames.ok()) return 0;
    const uint64_t bottom = next_slot + 4096;  // above the guard page
    if (!arch::kernel_address_space()
             .map(bottom, *frames, kKernelStackSize, arch::kPteWrite | arch::kPteNoExec)
             .ok()) {
        (void)mm::frames().free(*frames, kKernelStackSize / 4096);
        return 0;
    }
    next_slot += kSlotSize;
    return bottom + kKernelStackSize;
}

// FIXME: past 256 idle slots the stack's memory is kept but not reused.
void give_stack(uint64_t top) {
    if (free_stack_count < 256) free_stacks[free_stack_count++] = top;
}

void enqueue(Thread* t) {
    t->run_next = nullptr;
    if (run_tail) {
        run_tail->run_next = t;
    } else {
        run_head = t;
    }
    run_tail = t;
}

Thread* dequeue() {
    Thread* t = run_head;
    if (t) {
        run_head = t->run_next;
        if (!run_head) run_tail = nullptr;
        t->run_next = nullptr;
    }
    return t;
}

// A slice runs only while another thread waits to run.
void update_slice(bool fresh) {
    if (run_head == nullptr) {
        timer_cancel(&slice);
        need_resched = false;
    } else if (fresh || !slice.armed) {
        timer_start(&slice, arch::monotonic_ns() + kSliceNs,
                    [](Timer*) { need_resched = true; });
    }
}

void unlink_all(Thread* t) {
    for (Thread** p = &all; *p; p = &(*p)->all_next) {
        if (*p == t) {
            *p = t->all_next;
            return;
        }
    }
}

void reap() {
    Thread** p = &dead;
    while (*p) {
        Thread* t = *p;
        if (t == cur) {
            p = &t->run_next;
            continue;
        }
        *p = t->run_next;
        unlink_all(t);
        if (t != &main_thread) {
            give_stack(t->kstack_top);
            mm::heap_free(t->fpu);
            mm::heap_free(t->io_buffer);
            mm::destroy(t);
        }
    }
}

void switch_to(Thread* prev, Thread* next) {
    Process& p = current();
    prev->signal_mask = p.signal_mask;
    prev->signal_pending = p.posix.signal_pending;
    prev->saved_mask = p.posix.saved_mask;
    prev->restore_mask = p.posix.restore_mask;
    p.signal_mask = next->signal_mask;
    p.posix.signal_pending = next->signal_pending;
    p.posix.saved_mask = next->saved_mask;
    p.posix.restore_mask = next->restore_mask;
    if (prev->state != Thread::State::kDead) {
        prev->sys = sys::syscall_state();
        prev->fs_base = arch::fs_base();
        if (prev->fpu) arch::fpu_save(prev->fpu);
    }
    cur = next;
    arch::set_kernel_stack(next->kstack_top);
    if (next->fs_base != arch::fs_base()) arch::set_fs_base(next->fs_base);
    if (next->fpu) arch::fpu_restore(next->fpu, arch::fpu_layout().xfeatures);
    sys::set_syscall_state(next->sys);
    update_slice(true);
    arch::kiln_context_switch(&prev->saved_rsp, next->saved_rsp);
    // Back in prev (cur == prev again).
    reap();
}

// Runs another thread; returns when the current one runs again. With
// nothing runnable, halts (interrupts may make threads runnable).
void schedule() {
    Thread* prev = cur;
    for (;;) {
        Thread* next = dequeue();
        if (next == prev) {
            update_slice(true);
            return;
        }
        if (next) {
            switch_to(prev, next);
            return;
        }
        if (prev->state == Thread::State::kRunnable) return;
        arch::wait_for_interrupt();
        // The one-thread semantics of sched::wait: every interrupt may have
        // changed what a waiter waits for.
        wake_waiters();
    }
}

void wake_locked(Thread* t) {
    if (t->state != Thread::State::kBlocked) return;
    t->state = Thread::State::kRunnable;
    t->woken = true;
    timer_cancel(&t->timer);
    enqueue(t);
    update_slice(false);
}

}  // namespace

Thread* current_thread() { return cur; }
int live_threads() { return live; }

bool thread_alive(int32_t tid) {
    return find_thread(tid) != nullptr;
}

Thread* create_thread(const arch::TrapFrame& frame, uint64_t user_sp, uint64_t fs_base) {
    arch::IrqGuard guard;
    reap();
    const arch::FpuLayout& layout = arch::fpu_layout();
    if (main_thread.fpu == nullptr && cur == &main_thread) {
        main_thread.fpu = static_cast<uint8_t*>(mm::heap_alloc(layout.size, 64));
        if (main_thread.fpu == nullptr) return nullptr;
    }
    Thread* t = mm::make<Thread>();
    if (t == nullptr) return nullptr;
    t->kstack_top = take_stack();
    t->fpu = static_cast<uint8_t*>(mm::heap_alloc(layout.size, 64));
    t->io_buffer = static_cast<uint8_t*>(mm::heap_alloc(kIoBufferSize, 4096));
    if (t->kstack_top == 0 || t->fpu == nullptr || t->io_buffer == nullptr) {
        if (t->kstack_top != 0) give_stack(t->kstack_top);
        mm::heap_free(t->fpu);
        mm::heap_free(t->io_buffer);
        mm::destroy(t);
        return nullptr;
    }
    // The child inherits the parent's FPU/SSE/AVX registers, as at clone.
    arch::fpu_save(t->fpu);
    t->tid = next_tid++;
    t->fs_base = fs_base;
    t->signal_mask = current().signal_mask;  // inherited, as clone does
    auto* f = reinterpret_cast<arch::TrapFrame*>(t->kstack_top - sizeof(arch::TrapFrame));
    *f = frame;
    f->rax = 0;
    f->rsp = user_sp;
    f->rcx = frame.rip;  // what SYSCALL leaves there
    f->r11 = frame.rflags;
    // kiln_context_switch pops r15 r14 r13 r12 rbx rbp and returns.
    auto* sw = reinterpret_cast<uint64_t*>(f) - 7;
    for (int i = 0; i < 6; i++) sw[i] = 0;
    sw[6] = reinterpret_cast<uint64_t>(arch::kiln_thread_start);
    t->saved_rsp = reinterpret_cast<uint64_t>(sw);
    t->sys = sys::SyscallState{f, frame.rax, false};
    t->state = Thread::State::kBlocked;
    t->all_next = all;
    all = t;
    live++;
    return t;
}

void start_thread(Thread* t) {
    arch::IrqGuard guard;
    wake_locked(t);
}

bool block(uint64_t deadline_ns, bool interruptible) {
    Thread* t = cur;
    t->state = Thread::State::kBlocked;
    t->interruptible = interruptible;
    t->woken = false;
    if (deadline_ns != kWaitForever) {
        timer_start(&t->timer, deadline_ns, [](Timer* tm) {
            auto* th = reinterpret_cast<Thread*>(reinterpret_cast<char*>(tm) - offsetof(Thread, timer));
            if (th->state == Thread::State::kBlocked) {
                wake_locked(th);
                th->woken = false;
            }
        });
    }
    schedule();
    t->interruptible = false;
    timer_cancel(&t->timer);
    return t->woken;
}

void wake(Thread* t) {
    arch::IrqGuard guard;
    wake_locked(t);
}

void wake_waiters() {
    arch::IrqGuard guard;
    for (Thread* t = all; t; t = t->all_next) {
        if (t->in_wait) wake_locked(t);
    }
}

void wake_interruptible() {
    arch::IrqGuard guard;
    for (Thread* t = all; t; t = t->all_next) {
        if (t->interruptible) wake_locked(t);
    }
}

Thread* find_thread(int32_t tid) {
    arch::IrqGuard guard;
    for (Thread* t = all; t; t = t->all_next) {
        if (t->tid == tid && t->state != Thread::State::kDead) return t;
    }
    return nullptr;
}

uint64_t signal_mask_of(const Thread* t) {
    return t == cur ? current().signal_mask : t->signal_mask;
}

uint64_t& signal_pending_of(Thread* t) {
    return t == cur ? current().posix.signal_pending : t->signal_pending;
}

Thread* signal_target(int sig) {
    arch::IrqGuard guard;
    const uint64_t bit = 1ull << (sig - 1);
    Thread* fallback = nullptr;
    if (main_thread.state != Thread::State::kDead) {
        if (!(signal_mask_of(&main_thread) & bit)) return &main_thread;
        fallback = &main_thread;
    }
    for (Thread* t = all; t; t = t->all_next) {
        if (t->state == Thread::State::kDead) continue;
        if (!(signal_mask_of(t) & bit)) return t;
        if (fallback == nullptr) fallback = t;
    }
    return fallback != nullptr ? fallback : cur;
}

void signal_wake(Thread* t) {
    arch::IrqGuard guard;
    if (t->interruptible) wake_locked(t);
}

void yield() {
    arch::IrqGuard guard;
    need_resched = false;
    if (run_head == nullptr) return;
    enqueue(cur);
    schedule();
}

void preempt_point() {
    if (!need_resched) return;
    yield();
}

[[noreturn]] void exit_thread() {
    arch::irq_disable();
    Thread* t = cur;
    t->state = Thread::State::kDead;
    live--;
    // Signals it had not taken belong to the process: another thread gets
    // them (none when it was the last: the process is ending).
    uint64_t& left = current().posix.signal_pending;
    if (left != 0) {
        for (Thread* o = all; o; o = o->all_next) {
            if (o->state == Thread::State::kDead) continue;
            o->signal_pending |= left;
            if (o->interruptible) wake_locked(o);
            break;
        }
        left = 0;
    }
    t->run_next = dead;
    dead = t;
    schedule();
    arch::crash("a dead thread ran again", nullptr);
}

}  // namespace kiln::sched
