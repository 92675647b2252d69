// The per-process state of the Linux personality that kernel/linux keeps
// beside sched::Process's core fields: limits, the rest of the credentials,
// prctl attributes, signal bookkeeping not yet in Process, interval timers.
// A plain value, so a future fork() copies it as a whole.
#pragma once

#include <stdint.h>

#include "linux/rlimit.h"
#include "linux/signal_frame.h"
#include "linux/sigset.h"
#include "linux/timespec.h"

namespace kiln::sys {

struct IntervalTimer {  // setitimer(2); a one-shot alarm(2) is ITIMER_REAL
    uint64_t interval_ns = 0;
    uint64_t deadline_ns = 0;  // monotonic; 0 = disarmed
};

inline constexpr int kItimerReal = 0;
inline constexpr int kItimerVirtual = 1;
inline constexpr int kItimerProf = 2;
inline constexpr int kMaxGroups = 64;  // supplementary groups kept (setgroups)

struct ProcessState {
    ResourceLimits limits;

    // Credentials beyond Process's uid/gid/euid/egid.
    uint32_t suid = 0, sgid = 0, fsuid = 0, fsgid = 0;
    uint32_t groups[kMaxGroups] = {};
    uint32_t group_count = 0;
    int32_t pgid = 1;
    int32_t sid = 1;

    // set_robust_list(2): kept for when threads can die holding a lock.
    uint64_t robust_list_head = 0;
    uint64_t robust_list_len = 0;
    // arch_prctl(ARCH_SET_GS): stored only; user-mode GS base is not loaded.
    uint64_t gs_base = 0;

    // prctl(2).
    char comm[16] = {};  // PR_SET_NAME; empty = derived from the executable
    int32_t pdeathsig = 0;
    int32_t dumpable = 1;
    bool no_new_privs = false;
    bool child_subreaper = false;
    uint32_t personality = 0;
    int32_t nice = 0;
    uint32_t ioprio = 0;

    // Signals sent to the process while blocked (bit n-1 for signal n).
    uint64_t signal_pending = 0;
    // What the handler's siginfo will say for each (signal n at n-1): who
    // sent it and how (si_code). A signal marked pending without one (all
    // zero) reads as SI_USER from pid 0, a sender outside the VM.
    SigInfo pending_info[64] = {};
    // Real-time signals (32..64) queue: instances sent while one is already
    // pending wait here, oldest first (Linux's sigqueue list, with a fixed
    // bound in place of RLIMIT_SIGPENDING).
    static constexpr uint32_t kRtQueueMax = 32;
    SigInfo rt_queue[kRtQueueMax] = {};
    uint32_t rt_queued = 0;
    // rt_sigsuspend's temporary mask is in force; the mask to go back to
    // once a handler's frame has recorded it (Linux TIF_RESTORE_SIGMASK).
    bool restore_mask = false;
    uint64_t saved_mask = 0;
    KernelStack altstack = {0, kSsDisable, 0, 0};
    IntervalTimer itimers[3] = {};
};

}  // namespace kiln::sys
