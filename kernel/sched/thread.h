// Threads of the one process, on one vCPU: each has its own kernel stack
// (syscalls and events from the app land on the running thread's), its
// saved kernel RSP, FS base and XSAVE area. The scheduler is a FIFO run
// queue; a thread runs until it blocks, yields, exits or its time slice
// ends (a one-shot timer armed only while another thread is runnable; the
// switch happens on the way back to user mode, never inside the kernel).
// When nothing is runnable the vCPU halts in the blocked thread's context.
#pragma once

#include <stdint.h>

#include "arch/x86_64/traps.h"
#include "linux/signal_delivery.h"
#include "sched/timer.h"

namespace kiln::sched {

// The kernel's per-thread bounce buffer for copies to and from the app
// (linux/fs_common.cpp); the first thread uses a static one.
inline constexpr uint64_t kIoBufferSize = 64 * 1024;

struct Thread {
    enum class State : uint8_t { kRunnable, kBlocked, kDead };

    Timer timer;  // the deadline of a block()
    int32_t tid = 0;
    State state = State::kRunnable;
    bool interruptible = false;  // blocked: a signal wakes it
    bool in_wait = false;        // blocked in sched::wait: any wake_all wakes it
    bool woken = false;          // the last block() ended by wake(), not its deadline
    uint64_t saved_rsp = 0;
    uint64_t kstack_top = 0;  // the boot stack's, or a slot of the stack window
    uint64_t fs_base = 0;
    uint8_t* fpu = nullptr;  // XSAVE area, 64-byte aligned (nullptr while alone)
    uint8_t* io_buffer = nullptr;  // kIoBufferSize bytes
    // The blocked signals while not running: Process::signal_mask (and
    // sigsuspend's saved mask) are the running thread's, swapped on a switch.
    uint64_t signal_mask = 0;
    // Its pending signals while not running (Process::posix.signal_pending
    // is the running thread's, swapped the same way): a signal for the
    // whole process is given to one thread when sent (signal_target), as
    // Linux wakes one chosen thread, so that the right blocked call ends.
    uint64_t signal_pending = 0;
    uint64_t saved_mask = 0;
    bool restore_mask = false;
    uint64_t clear_child_tid = 0;  // set_tid_address / CLONE_CHILD_CLEARTID
    sys::SyscallState sys;
    Thread* run_next = nullptr;
    Thread* all_next = nullptr;
};

Thread* current_thread();
// Whether tid names a thread of the process that has not exited.
bool thread_alive(int32_t tid);
// Threads that have not exited.
int live_threads();

// A new thread that returns to the app from `frame` with RAX 0, RSP
// user_sp and FS base fs_base, not yet runnable; nullptr without memory.
Thread* create_thread(const arch::TrapFrame& frame, uint64_t user_sp, uint64_t fs_base);
void start_thread(Thread* t);

// Blocks the current thread until wake() or the monotonic deadline
// (kWaitForever: none). Interrupts masked by the caller, who has put the
// thread where its waker will find it. True when woken.
bool block(uint64_t deadline_ns, bool interruptible);
// Makes a blocked thread runnable. Safe from interrupt context.
void wake(Thread* t);
// Wakes every thread blocked in sched::wait (they re-check), or every
// interruptible one (a signal arrived).
void wake_waiters();
void wake_interruptible();

// The thread a signal for the whole process goes to, as Linux chooses: the
// main thread unless it blocks sig (or has exited), else the first live
// thread that does not block it; when every thread blocks it, the main
// thread (or any live one), where it stays pending.
Thread* signal_target(int sig);
// The live thread with this tid, nullptr when there is none.
Thread* find_thread(int32_t tid);
// t's blocked signals and pending signals (the running thread's live in
// the Process).
uint64_t signal_mask_of(const Thread* t);
uint64_t& signal_pending_of(Thread* t);
// A signal became pending for t: wakes it if it blocks interruptibly.
void signal_wake(Thread* t);

// sched_yield: the current thread goes to the back of the run queue.
void yield();
// On the way back to user mode: switches if the time slice ended.
void preempt_point();
// The current thread ends (its stack is freed later, by another thread).
[[noreturn]] void exit_thread();

}  // namespace kiln::sched
