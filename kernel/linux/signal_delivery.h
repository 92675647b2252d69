// Signal delivery to the application: on every return to user mode the
// pending, unblocked signals are acted on — default action, or a handler
// entered through an rt_sigframe on the user stack (signal_frame.h) — and
// rt_sigreturn undoes a frame. Synchronous faults go to a handler when
// one can run. The frame of the current syscall or trap is the running
// thread's user state (the scheduler swaps it with SyscallState). Signals
// are pending for the process; the mask is the running thread's.
#pragma once

#include <stdint.h>

#include "linux/signal_frame.h"
#include "linux/syscall.h"

namespace kiln::sched {
struct Thread;
}
namespace kiln::arch {
struct TrapFrame;
}

namespace kiln::sys {

// Called by the syscall entry before dispatching: rt_sigreturn and
// sigaltstack read and change the user state there.
void set_syscall_frame(arch::TrapFrame* f);
arch::TrapFrame* syscall_frame();

// The per-thread part of the above: the scheduler saves it when a thread
// stops running inside a system call and restores it when it resumes.
struct SyscallState {
    arch::TrapFrame* frame = nullptr;
    uint64_t nr = 0;
    bool full_return = false;
};
SyscallState syscall_state();
void set_syscall_state(const SyscallState& s);

// Makes sig pending for the process with si_code `code` (SI_USER, SI_TKILL,
// SI_KERNEL); it is acted on at the next return to user mode unless
// blocked. A signal whose disposition ignores it is discarded at once
// unless blocked (POSIX). Safe from interrupt context (one CPU).
void post_signal(int sig, int32_t code);
// The same with a whole siginfo (rt_sigqueueinfo); info.si_signo names it.
// A standard signal already pending is not sent twice; a real-time one
// queues, and false means the queue is full (sigqueue's EAGAIN).
bool post_signal_info(const SigInfo& info);
// The same for one thread (tgkill, tkill), or for the process when thread
// is null: then sched::signal_target chooses the thread that takes it.
// FIXME(threads): the siginfo of a pending signal is kept per process, so
// the same standard signal pending on two threads shares one.
bool post_signal_to(const SigInfo& info, sched::Thread* thread);

// Forgets pending signal sig and every queued instance of it (its
// disposition became SIG_IGN, or a wait passed over it as ignored).
void discard_pending(int sig);

// Signals a source outside the process may send at any moment: the host's,
// forwarded by the monitor (host_signals.cpp sets them once it opts in).
void set_external_signals(uint64_t set);

// Whether a signal outside `mask` that is not ignored could still arrive
// while the process waits: an external one, or SIGALRM from an armed
// ITIMER_REAL. One thread and no other process: nothing else sends one.
bool signal_can_arrive(uint64_t mask);

// True when a pending signal is not blocked: a blocking call in progress
// ends (EINTR) so that the signal can be acted on.
bool signal_ready();

// Acts on every pending signal the mask lets through (may not return: a
// default action ends the process). A syscall that returned one of the
// restart codes (signal_frame.h, kErestart*) is restarted or fails with
// EINTR here, so a blocking call cut short by a signal returns one of them.
// True when the frame must go back to user mode whole (iretq / int $0x17):
// a handler was entered or rt_sigreturn replaced every register.
bool return_to_user(arch::TrapFrame& f);

enum class FaultOutcome {
    kHandlerEntered,  // the frame now enters the handler
    kNoHandler,       // default, ignored or blocked: the crash report follows
    kFrameFailed,     // the handler's frame could not be written: SIGSEGV
};

// A synchronous fault in user mode (si_code, si_addr; cr2 for sigcontext).
FaultOutcome deliver_fault(arch::TrapFrame& f, int sig, int32_t code, uint64_t fault_addr,
                           uint64_t cr2);

// rt_sigreturn(2), in the signal family's table.
int64_t sys_rt_sigreturn(const SyscallArgs& a);

}  // namespace kiln::sys
