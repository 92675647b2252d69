// The time family: reading the clocks (clock_gettime, clock_getres,
// gettimeofday, time), sleeping (nanosleep, clock_nanosleep) and refusing to
// set the clock (the app does not own the VM's time: EPERM, as in a
// container without CAP_SYS_TIME). Clock semantics are in clocks.h. With a
// vDSO most reads never get here, but without one (the census measured
// thousands of calls a second from nginx and redis) these must stay cheap.
#include <linux/time.h>

#include "arch/x86_64/arch.h"
#include "arch/x86_64/clock.h"
#include "linux/clocks.h"
#include "linux/signal_delivery.h"
#include "linux/syscall.h"
#include "linux/timespec.h"
#include "linux/user.h"
#include "sched/process.h"
#include "sched/timer.h"
#include "sched/wait.h"

namespace kiln::sys {
namespace {

static_assert(CLOCK_REALTIME == kClockRealtime && CLOCK_MONOTONIC == kClockMonotonic &&
              CLOCK_PROCESS_CPUTIME_ID == kClockProcessCputimeId &&
              CLOCK_THREAD_CPUTIME_ID == kClockThreadCputimeId &&
              CLOCK_MONOTONIC_RAW == kClockMonotonicRaw &&
              CLOCK_REALTIME_COARSE == kClockRealtimeCoarse &&
              CLOCK_MONOTONIC_COARSE == kClockMonotonicCoarse && CLOCK_BOOTTIME == kClockBoottime &&
              CLOCK_TAI == kClockTai && TIMER_ABSTIME == kTimerAbstime);

ClockSample sample() {
    return ClockSample{arch::monotonic_ns(), arch::wall_ns()};
}

ClockOwner owner() {
    const sched::Process& p = sched::current();
    return ClockOwner{p.pid, p.tid};
}

int32_t clock_arg(uint64_t v) {
    return static_cast<int32_t>(v);
}

int64_t sys_clock_gettime(const SyscallArgs& a) {
    auto ns = clock_read(clock_arg(a.arg[0]), sample(), owner());
    if (!ns.ok()) return errno_result(ns.error());
    return to_syscall_result(write_user(a.arg[1], ns_to_timespec(ns.value())));
}

int64_t sys_clock_getres(const SyscallArgs& a) {
    auto ns = clock_resolution(clock_arg(a.arg[0]), owner());
    if (!ns.ok()) return errno_result(ns.error());
    if (a.arg[1] == 0) return 0;
    return to_syscall_result(write_user(a.arg[1], ns_to_timespec(ns.value())));
}

int64_t sys_gettimeofday(const SyscallArgs& a) {
    if (a.arg[0]) {
        auto r = write_user(a.arg[0], ns_to_timeval(arch::wall_ns()));
        if (!r.ok()) return errno_result(r.error());
    }
    // The time zone is UTC without DST; programs read /etc/localtime.
    if (a.arg[1]) return to_syscall_result(write_user(a.arg[1], KernelTimezone{0, 0}));
    return 0;
}

int64_t sys_time(const SyscallArgs& a) {
    const int64_t now = static_cast<int64_t>(arch::wall_ns() / kNsPerSec);
    if (a.arg[0]) {
        if (auto r = write_user(a.arg[0], now); !r.ok()) return errno_result(r.error());
    }
    return now;
}

// A signal that becomes pending and unblocked during the sleep (an
// ITIMER_REAL expiring) ends it with EINTR, writing the time left for a
// relative sleep to rem (never restarted, SA_RESTART or not, as in Linux).
int64_t sleep_on(int32_t clock, uint32_t flags, uint64_t req_addr, uint64_t rem_addr) {
    auto req = read_user<KernelTimespec>(req_addr);
    if (!req.ok()) return errno_result(req.error());
    auto deadline = sleep_deadline(clock, flags, req.value(), sample(), owner());
    if (!deadline.ok()) return errno_result(deadline.error());
    // Through sched::wait, so that the process's other threads run while
    // this one sleeps (a bare halt loop kept them off the vCPU).
    sched::WaitRequest w;
    w.deadline_ns = deadline.value();
    w.what = "nanosleep";
    w.interrupted = signal_ready;
    if (sched::wait(w, [] { return false; }) != sched::WaitStatus::kInterrupted) return 0;
    if (!(flags & kTimerAbstime) && rem_addr != 0) {
        const uint64_t now = arch::monotonic_ns();
        const uint64_t left = deadline.value() > now ? deadline.value() - now : 0;
        if (auto r = write_user(rem_addr, ns_to_timespec(left)); !r.ok()) {
            return errno_result(r.error());
        }
    }
    return errno_result(Errno::kEINTR);
}

int64_t sys_nanosleep(const SyscallArgs& a) {
    return sleep_on(kClockMonotonic, 0, a.arg[0], a.arg[1]);
}

int64_t sys_clock_nanosleep(const SyscallArgs& a) {
    return sleep_on(clock_arg(a.arg[0]), static_cast<uint32_t>(a.arg[1]), a.arg[2], a.arg[3]);
}

int64_t sys_settimeofday(const SyscallArgs& a) {
    if (a.arg[0]) {
        auto tv = read_user<KernelTimeval>(a.arg[0]);
        if (!tv.ok()) return errno_result(tv.error());
        if (!timeval_valid(tv.value())) return errno_result(Errno::kEINVAL);
    }
    return errno_result(Errno::kEPERM);
}

int64_t sys_clock_settime(const SyscallArgs& a) {
    auto ns = clock_read(clock_arg(a.arg[0]), sample(), owner());
    if (!ns.ok()) return errno_result(ns.error());
    auto ts = read_user<KernelTimespec>(a.arg[1]);
    if (!ts.ok()) return errno_result(ts.error());
    if (!timespec_valid(ts.value())) return errno_result(Errno::kEINVAL);
    return errno_result(Errno::kEPERM);
}

// clang-format off
const SyscallDef kTime[] = {
    {__NR_clock_gettime, "clock_gettime", sys_clock_gettime, {Arg::kInt, Arg::kPtr}},
    {__NR_clock_getres, "clock_getres", sys_clock_getres, {Arg::kInt, Arg::kPtr}},
    {__NR_gettimeofday, "gettimeofday", sys_gettimeofday, {Arg::kPtr, Arg::kPtr}},
    {__NR_time, "time", sys_time, {Arg::kPtr}},
    {__NR_nanosleep, "nanosleep", sys_nanosleep, {Arg::kPtr, Arg::kPtr}},
    {__NR_clock_nanosleep, "clock_nanosleep", sys_clock_nanosleep, {Arg::kInt, Arg::kHex, Arg::kPtr, Arg::kPtr}},
    {__NR_settimeofday, "settimeofday", sys_settimeofday, {Arg::kPtr, Arg::kPtr}},
    {__NR_clock_settime, "clock_settime", sys_clock_settime, {Arg::kInt, Arg::kPtr}},
};
// clang-format on

}  // namespace

extern const SyscallFamily kTimeFamily = {kTime, sizeof(kTime) / sizeof(kTime[0])};

}  // namespace kiln::sys
