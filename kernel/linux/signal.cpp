// The signal family, bookkeeping only: dispositions (rt_sigaction), the
// blocked mask, pending signals, the alternate stack and interval timers.
// A signal the process sends itself becomes pending and is acted on when
// the process returns to user mode and the signal is not blocked (musl's
// raise() blocks every signal around tkill): signal_delivery.cpp runs the
// default action (abort() -> SIGABRT -> status 134) or the handler.
#include <linux/signal.h>

#include "arch/x86_64/arch.h"
#include "arch/x86_64/clock.h"
#include "arch/x86_64/traps.h"
#include "klog.h"
#include "linux/process_state.h"
#include "linux/signal_delivery.h"
#include "linux/signal_frame.h"
#include "linux/sigset.h"
#include "linux/syscall.h"
#include "linux/timespec.h"
#include "linux/user.h"
#include "sched/process.h"
#include "sched/thread.h"
#include "sched/wait.h"
#include "sched/timer.h"

namespace kiln::sys {
namespace {

static_assert(SIGKILL == kSigKill && SIGSTOP == kSigStop && SIGABRT == kSigAbrt &&
              SIGCHLD == kSigChld && SIGCONT == kSigCont && SIGWINCH == kSigWinch &&
              SIGSYS == kSigSys && SIG_BLOCK == kSigBlock && SIG_UNBLOCK == kSigUnblock &&
              SIG_SETMASK == kSigSetmask && SA_RESTORER == kSaRestorer &&
              SA_ONSTACK == kSaOnstack && SS_DISABLE == kSsDisable && MINSIGSTKSZ == kMinSigstkSz &&
              SS_AUTODISARM == kSsAutodisarm);

using sched::Process;
using sched::SignalAction;

// Sends sig (valid, non-zero) to the process itself: see post_signal.
void send_to_self(int sig, bool tkill) {
    post_signal(sig, tkill ? kSiTkill : kSiUser);
}

// ---- dispositions and masks ----

int64_t sys_rt_sigaction(const SyscallArgs& a) {
    const int sig = static_cast<int>(a.arg[0]);
    if (a.arg[3] != kSigsetSize) return errno_result(Errno::kEINVAL);
    SignalAction act;
    if (a.arg[1]) {
        auto r = read_user<SignalAction>(a.arg[1]);
        if (!r.ok()) return errno_result(r.error());
        act = r.value();
    }
    if (auto r = check_sigaction(sig, a.arg[1] != 0); !r.ok()) return errno_result(r.error());
    Process& p = sched::current();
    SignalAction& slot = p.signal_actions[sig - 1];
    SignalAction old = slot;
    old.flags &= kSaKnownFlags;
    if (a.arg[1]) {
        act.flags &= kSaKnownFlags;
        act.mask &= ~kUnblockable;
        slot = act;
        // Setting a disposition that ignores the signal discards it if
        // pending (POSIX).
        if (signal_fate(sig, act.handler) == SignalFate::kIgnore) discard_pending(sig);
    }
    if (a.arg[2]) return to_syscall_result(write_user(a.arg[2], old));
    return 0;
}

int64_t sys_rt_sigprocmask(const SyscallArgs& a) {
    if (a.arg[3] != kSigsetSize) return errno_result(Errno::kEINVAL);
    Process& p = sched::current();
    const uint64_t old = p.signal_mask;
    if (a.arg[1]) {
        auto set = read_user<uint64_t>(a.arg[1]);
        if (!set.ok()) return errno_result(set.error());
        auto mask = apply_sigprocmask(static_cast<int>(a.arg[0]), old, set.value());
        if (!mask.ok()) return errno_result(mask.error());
        p.signal_mask = mask.value();
    }
    if (a.arg[2]) {
        if (auto r = write_user(a.arg[2], old); !r.ok()) return errno_result(r.error());
    }
    return 0;  // signals it unblocked are delivered on the way back to user mode
}

int64_t sys_rt_sigpending(const SyscallArgs& a) {
    if (a.arg[1] > kSigsetSize) return errno_result(Errno::kEINVAL);
    const uint64_t pending = sched::current().posix.signal_pending;
    return to_syscall_result(copy_to_user(a.arg[0], &pending, a.arg[1]));
}

int64_t sys_sigaltstack(const SyscallArgs& a) {
    ProcessState& s = sched::current().posix;
    // While a handler runs on the alternate stack it can be neither changed
    // nor disabled (EPERM), and it reports SS_ONSTACK.
    KernelStack old = s.altstack;
    const arch::TrapFrame* f = syscall_frame();
    const bool on_alt = f != nullptr && on_stack(old, f->rsp);
    if (on_alt) old.ss_flags |= kSsOnstack;
    if (a.arg[0]) {
        if (on_alt) return errno_result(Errno::kEPERM);
        auto ss = read_user<KernelStack>(a.arg[0]);
        if (!ss.ok()) return errno_result(ss.error());
        auto next = apply_sigaltstack(ss.value());
        if (!next.ok()) return errno_result(next.error());
        s.altstack = next.value();
    }
    if (a.arg[1]) return to_syscall_result(write_user(a.arg[1], old));
    return 0;
}

// ---- waiting for a signal ----

// Waits until a signal outside `mask` is pending and not ignored. When
// nothing could send one (signal_can_arrive) the wait would hang for ever:
// the process ends with a clear report instead.
void wait_for_signal(uint64_t mask, const char* call) {
    Process& p = sched::current();
    arch::IrqGuard masked;
    for (;;) {
        for (uint64_t ready = p.posix.signal_pending & ~mask; ready != 0;) {
            const int sig = lowest_signal(ready);
            ready &= ~sigbit(sig);
            if (signal_fate(sig, p.signal_actions[sig - 1].handler) != SignalFate::kIgnore) return;
            discard_pending(sig);  // an ignored one does not end the wait
        }
        if (!signal_can_arrive(mask)) {
            klog::error(
                "kiln: %s waits for a signal, but this process has no other thread or process "
                "and no timer that could send one; ending it as if killed",
                call);
            sched::die_of_signal(kSigKill, "deadlock: waited for a signal nothing can send");
        }
        sched::block(sched::kWaitForever, true);  // post_signal wakes it
    }
}

// The wait ends with EINTR, the temporary mask in force until the handler's
// frame has recorded the old one (or the default action ends the process).
int64_t sys_rt_sigsuspend(const SyscallArgs& a) {
    if (a.arg[1] != kSigsetSize) return errno_result(Errno::kEINVAL);
    auto mask = read_user<uint64_t>(a.arg[0]);
    if (!mask.ok()) return errno_result(mask.error());
    Process& p = sched::current();
    const uint64_t temp = mask.value() & ~kUnblockable;
    wait_for_signal(temp, "rt_sigsuspend");
    p.posix.saved_mask = p.signal_mask;
    p.posix.restore_mask = true;
    p.signal_mask = temp;
    return errno_result(Errno::kEINTR);
}

int64_t sys_pause(const SyscallArgs&) {
    wait_for_signal(sched::current().signal_mask, "pause");
    return errno_result(Errno::kEINTR);
}

// ---- sending ----

// kill(2): 1 or 0 is the process itself (its pid, its group); -1 means every
// other process, of which there are none; -pgid its own group.
int64_t sys_kill(const SyscallArgs& a) {
    const int32_t pid = static_cast<int32_t>(a.arg[0]);
    const int sig = static_cast<int>(a.arg[1]);
    const Process& p = sched::current();
    const bool self =
        pid == p.pid || pid == 0 || (pid < -1 && pid != INT32_MIN && -pid == p.posix.pgid);
    if (sig != 0 && !signal_valid(sig)) return errno_result(Errno::kEINVAL);
    if (!self) return errno_result(Errno::kESRCH);
    if (sig != 0) send_to_self(sig, false);
    return 0;
}

int64_t thread_kill(int32_t tgid, int32_t tid, int sig) {
    if (tid <= 0 || tgid == 0 || tgid < -1) return errno_result(Errno::kEINVAL);
    if (sig != 0 && !signal_valid(sig)) return errno_result(Errno::kEINVAL);
    const Process& p = sched::current();
    sched::Thread* t = sched::find_thread(tid);
    if (t == nullptr || (tgid > 0 && tgid != p.pid)) return errno_result(Errno::kESRCH);
    if (sig != 0) {
        SigInfo info = {};
        info.si_signo = sig;
        info.si_code = kSiTkill;
        info.fields.kill.pid = p.pid;
        info.fields.kill.uid = p.uid;
        post_signal_to(info, t);
    }
    return 0;
}

int64_t sys_tgkill(const SyscallArgs& a) {
    const int32_t tgid = static_cast<int32_t>(a.arg[0]);
    if (tgid <= 0) return errno_result(Errno::kEINVAL);
    return thread_kill(tgid, static_cast<int32_t>(a.arg[1]), static_cast<int>(a.arg[2]));
}

int64_t sys_tkill(const SyscallArgs& a) {
    return thread_kill(-1, static_cast<int32_t>(a.arg[0]), static_cast<int>(a.arg[1]));
}

// rt_sigqueueinfo(2), rt_tgsigqueueinfo: a signal with the caller's siginfo
// (sigqueue's SI_QUEUE and value). Only the process itself is a target, and
// to itself any si_code is allowed (Linux refuses si_code >= 0 or SI_TKILL
// only towards other processes).
int64_t queue_to_self(int32_t tgid, int32_t tid, int sig, uint64_t uinfo) {
    if (!signal_valid(sig)) return errno_result(Errno::kEINVAL);
    auto info = read_user<SigInfo>(uinfo);
    if (!info.ok()) return errno_result(info.error());
    const Process& p = sched::current();
    if (tgid != p.pid || (tid != 0 && !sched::thread_alive(tid))) return errno_result(Errno::kESRCH);
    SigInfo si = info.value();
    si.si_signo = sig;
    return post_signal_info(si) ? 0 : errno_result(Errno::kEAGAIN);
}

int64_t sys_rt_sigqueueinfo(const SyscallArgs& a) {
    return queue_to_self(static_cast<int32_t>(a.arg[0]), 0, static_cast<int>(a.arg[1]), a.arg[2]);
}

int64_t sys_rt_tgsigqueueinfo(const SyscallArgs& a) {
    const int32_t tid = static_cast<int32_t>(a.arg[1]);
    if (tid <= 0) return errno_result(Errno::kEINVAL);
    return queue_to_self(static_cast<int32_t>(a.arg[0]), tid, static_cast<int>(a.arg[2]), a.arg[3]);
}

// ---- interval timers ----

// ITIMER_REAL (and alarm) expiry: SIGALRM from the kernel (SI_KERNEL), the
// timer rolled forward when periodic.
sched::Timer real_timer;

void real_timer_fired(sched::Timer*) {
    IntervalTimer& t = sched::current().posix.itimers[kItimerReal];
    post_signal(kSigAlrm, kSiKernel);
    if (t.interval_ns == 0) {
        t.deadline_ns = 0;
        return;
    }
    const uint64_t now = arch::monotonic_ns();
    t.deadline_ns += t.interval_ns;
    if (t.deadline_ns <= now)
        t.deadline_ns += ((now - t.deadline_ns) / t.interval_ns + 1) * t.interval_ns;
    sched::timer_start(&real_timer, t.deadline_ns, real_timer_fired);
}

void start_real_timer(const IntervalTimer& t) {
    arch::IrqGuard masked;
    if (t.deadline_ns != 0) {
        sched::timer_start(&real_timer, t.deadline_ns, real_timer_fired);
    } else {
        sched::timer_cancel(&real_timer);
    }
}

void note_timer_armed(int which, const IntervalTimer& t) {
    static bool reported = false;
    if (which == kItimerReal) {
        start_real_timer(t);
        return;
    }
    if (t.deadline_ns != 0 && !reported) {
        reported = true;
        // FIXME(#4): ITIMER_VIRTUAL and ITIMER_PROF count CPU time, which
        // kiln does not account yet: kept, but SIGVTALRM/SIGPROF never come.
        klog::warn("kiln: a CPU-time interval timer was armed; its signal will not be sent yet");
    }
}

// The time left on t at `now` (periodic timers roll forward).
KernelItimerval timer_value(const IntervalTimer& t, uint64_t now) {
    KernelItimerval v = {ns_to_timeval(t.interval_ns), {0, 0}};
    if (t.deadline_ns == 0) return v;
    uint64_t next = t.deadline_ns;
    if (next <= now) {
        if (t.interval_ns == 0) return v;
        next += ((now - next) / t.interval_ns + 1) * t.interval_ns;
    }
    // Linux never reports an armed timer as 0 (which would read as disarmed).
    KernelTimeval left = ns_to_timeval(next - now);
    if (left.tv_sec == 0 && left.tv_usec == 0) left.tv_usec = 1;
    v.it_value = left;
    return v;
}

IntervalTimer arm(const KernelItimerval& v, uint64_t now) {
    IntervalTimer t;
    const uint64_t value = timeval_to_ns(v.it_value);
    if (value != 0) {
        t.deadline_ns = add_ns_saturating(now, value);
        t.interval_ns = timeval_to_ns(v.it_interval);
    }
    return t;
}

int64_t sys_setitimer(const SyscallArgs& a) {
    const int which = static_cast<int>(a.arg[0]);
    if (which < kItimerReal || which > kItimerProf) return errno_result(Errno::kEINVAL);
    // A null new value disarms, as Linux still allows.
    KernelItimerval v = {};
    if (a.arg[1]) {
        auto r = read_user<KernelItimerval>(a.arg[1]);
        if (!r.ok()) return errno_result(r.error());
        v = r.value();
        if (!timeval_valid(v.it_value) || !timeval_valid(v.it_interval)) {
            return errno_result(Errno::kEINVAL);
        }
    }
    const uint64_t now = arch::monotonic_ns();
    IntervalTimer& t = sched::current().posix.itimers[which];
    const KernelItimerval old = timer_value(t, now);
    t = arm(v, now);
    note_timer_armed(which, t);
    if (a.arg[2]) return to_syscall_result(write_user(a.arg[2], old));
    return 0;
}

int64_t sys_getitimer(const SyscallArgs& a) {
    const int which = static_cast<int>(a.arg[0]);
    if (which < kItimerReal || which > kItimerProf) return errno_result(Errno::kEINVAL);
    const IntervalTimer& t = sched::current().posix.itimers[which];
    return to_syscall_result(write_user(a.arg[1], timer_value(t, arch::monotonic_ns())));
}

// alarm(2): a one-shot ITIMER_REAL; returns the seconds left on the previous
// one, rounded to the nearest second but never 0 while it was armed.
int64_t sys_alarm(const SyscallArgs& a) {
    const uint64_t now = arch::monotonic_ns();
    IntervalTimer& t = sched::current().posix.itimers[kItimerReal];
    const KernelTimeval left = timer_value(t, now).it_value;
    int64_t secs = left.tv_sec;
    if (left.tv_usec >= 500000 || (secs == 0 && left.tv_usec != 0)) secs++;
    const uint32_t seconds = static_cast<uint32_t>(a.arg[0]);
    t = arm(KernelItimerval{{0, 0}, {seconds, 0}}, now);
    note_timer_armed(kItimerReal, t);
    return secs;
}

// clang-format off
const SyscallDef kSignal[] = {
    {__NR_rt_sigaction, "rt_sigaction", sys_rt_sigaction, {Arg::kInt, Arg::kPtr, Arg::kPtr, Arg::kUInt}},
    {__NR_rt_sigprocmask, "rt_sigprocmask", sys_rt_sigprocmask, {Arg::kInt, Arg::kPtr, Arg::kPtr, Arg::kUInt}},
    {__NR_rt_sigreturn, "rt_sigreturn", sys_rt_sigreturn, {}},
    {__NR_rt_sigpending, "rt_sigpending", sys_rt_sigpending, {Arg::kPtr, Arg::kUInt}},
    {__NR_sigaltstack, "sigaltstack", sys_sigaltstack, {Arg::kPtr, Arg::kPtr}},
    {__NR_rt_sigsuspend, "rt_sigsuspend", sys_rt_sigsuspend, {Arg::kPtr, Arg::kUInt}},
    {__NR_pause, "pause", sys_pause, {}},
    {__NR_kill, "kill", sys_kill, {Arg::kInt, Arg::kInt}},
    {__NR_tgkill, "tgkill", sys_tgkill, {Arg::kInt, Arg::kInt, Arg::kInt}},
    {__NR_tkill, "tkill", sys_tkill, {Arg::kInt, Arg::kInt}},
    {__NR_rt_sigqueueinfo, "rt_sigqueueinfo", sys_rt_sigqueueinfo, {Arg::kInt, Arg::kInt, Arg::kPtr}},
    {__NR_rt_tgsigqueueinfo, "rt_tgsigqueueinfo", sys_rt_tgsigqueueinfo, {Arg::kInt, Arg::kInt, Arg::kInt, Arg::kPtr}},
    {__NR_setitimer, "setitimer", sys_setitimer, {Arg::kInt, Arg::kPtr, Arg::kPtr}},
    {__NR_getitimer, "getitimer", sys_getitimer, {Arg::kInt, Arg::kPtr}},
    {__NR_alarm, "alarm", sys_alarm, {Arg::kUInt}},
};
// clang-format on

}  // namespace

extern const SyscallFamily kSignalFamily = {kSignal, sizeof(kSignal) / sizeof(kSignal[0])};

}  // namespace kiln::sys
