// futex (the wait queues are sched/futex.h), and the calls kiln answers
// ENOSYS on purpose (so they are not reported as missing).
//
// A wait with no timeout while the process has one thread could never end:
// that is a deadlock (a mutex the thread already holds, a join of a thread
// that does not exist), and kiln ends the process with a report instead of
// hanging the VM.
#include <linux/futex.h>

#include "arch/x86_64/clock.h"
#include "klog.h"
#include "linux/futex_op.h"
#include "linux/sigset.h"
#include "linux/syscall.h"
#include "linux/user.h"
#include "sched/process.h"
#include "sched/futex.h"
#include "sched/thread.h"
#include "sched/timer.h"
#include "sched/wait.h"
#include "linux/signal_delivery.h"

namespace kiln::sys {
namespace {

static_assert(FUTEX_WAIT == kFutexWait && FUTEX_WAKE == kFutexWake &&
              FUTEX_WAKE_OP == kFutexWakeOp && FUTEX_WAIT_BITSET == kFutexWaitBitset &&
              FUTEX_LOCK_PI2 == kFutexLockPi2 && FUTEX_PRIVATE_FLAG == kFutexPrivateFlag &&
              FUTEX_CLOCK_REALTIME == kFutexClockRealtime);

[[noreturn]] void end_deadlocked(uint64_t uaddr, uint32_t value) {
    klog::error(
        "kiln: futex wait on 0x%lx (value %u) without a timeout, but no other thread exists "
        "to wake it: the process is deadlocked; ending it as if killed",
        uaddr, value);
    sched::die_of_signal(kSigKill, "deadlock: futex wait that nothing can wake");
}

int64_t futex_wait(const FutexOp& op, uint64_t uaddr, uint32_t val, uint64_t timeout_addr,
                   uint32_t bitset) {
    if (op.cmd == kFutexWaitBitset && bitset == 0) return errno_result(Errno::kEINVAL);
    KernelTimespec timeout;
    const KernelTimespec* tp = nullptr;
    if (timeout_addr) {
        auto r = read_user<KernelTimespec>(timeout_addr);
        if (!r.ok()) return errno_result(r.error());
        timeout = r.value();
        tp = &timeout;
    }
    auto deadline = futex_wait_deadline(
        op, tp, ClockSample{arch::monotonic_ns(), op.realtime ? arch::wall_ns() : 0});
    if (!deadline.ok()) return errno_result(deadline.error());
    auto word = read_user<uint32_t>(uaddr);
    if (!word.ok()) return errno_result(word.error());
    if (word.value() != val) return errno_result(Errno::kEAGAIN);
    if (deadline.value() == kNsForever && sched::live_threads() == 1) end_deadlocked(uaddr, val);
    const uint64_t until = deadline.value() == kNsForever ? sched::kWaitForever : deadline.value();
    switch (sched::futex_wait(uaddr, bitset, until, signal_ready)) {
        case sched::FutexWaitResult::kWoken:
            return 0;
        case sched::FutexWaitResult::kTimedOut:
            return errno_result(Errno::kETIMEDOUT);
        case sched::FutexWaitResult::kInterrupted:
            break;
    }
    return errno_result(Errno::kEINTR);
}

int count_arg(uint32_t v) { return v > 0x7fffffffu ? 0x7fffffff : static_cast<int>(v); }

int64_t futex_wake_op_call(uint64_t uaddr, int n, uint64_t uaddr2, int n2, uint32_t encoded) {
    auto old = read_user<uint32_t>(uaddr2);
    if (!old.ok()) return errno_result(old.error());
    bool wake2 = false;
    auto v = futex_wake_op(encoded, old.value(), &wake2);
    if (!v.ok()) return errno_result(v.error());
    if (auto r = write_user(uaddr2, v.value()); !r.ok()) return errno_result(r.error());
    int woken = sched::futex_wake(uaddr, n, kFutexBitsetMatchAny);
    if (wake2) woken += sched::futex_wake(uaddr2, n2, kFutexBitsetMatchAny);
    return woken;
}

// futex(uaddr, op, val, timeout or val2, uaddr2, val3)
int64_t sys_futex(const SyscallArgs& a) {
    auto op = decode_futex_op(static_cast<int>(a.arg[1]));
    if (!op.ok()) return errno_result(op.error());
    const uint64_t uaddr = a.arg[0];
    const uint32_t val = static_cast<uint32_t>(a.arg[2]);
    const uint32_t val3 = static_cast<uint32_t>(a.arg[5]);
    if (uaddr % sizeof(uint32_t) != 0) return errno_result(Errno::kEINVAL);
    switch (op->cmd) {
        case kFutexWait:
            return futex_wait(op.value(), uaddr, val, a.arg[3], kFutexBitsetMatchAny);
        case kFutexWaitBitset:
            return futex_wait(op.value(), uaddr, val, a.arg[3], val3);
        case kFutexWake:
            return sched::futex_wake(uaddr, count_arg(val), kFutexBitsetMatchAny);
        case kFutexWakeBitset:
            if (val3 == 0) return errno_result(Errno::kEINVAL);
            return sched::futex_wake(uaddr, count_arg(val), val3);
        case kFutexRequeue:
        case kFutexCmpRequeue: {
            // val2 (the requeue count) travels in the timeout argument.
            if (static_cast<int32_t>(val) < 0 || static_cast<int32_t>(a.arg[3]) < 0) {
                return errno_result(Errno::kEINVAL);
            }
            if (a.arg[4] % sizeof(uint32_t) != 0) return errno_result(Errno::kEINVAL);
            if (op->cmd == kFutexCmpRequeue) {
                auto word = read_user<uint32_t>(uaddr);
                if (!word.ok()) return errno_result(word.error());
                if (word.value() != val3) return errno_result(Errno::kEAGAIN);
            }
            return sched::futex_requeue(uaddr, count_arg(val), a.arg[4],
                                        count_arg(static_cast<uint32_t>(a.arg[3])));
        }
        case kFutexWakeOp:
            if (a.arg[4] % sizeof(uint32_t) != 0) return errno_result(Errno::kEINVAL);
            return futex_wake_op_call(uaddr, count_arg(val), a.arg[4],
                                      count_arg(static_cast<uint32_t>(a.arg[3])), val3);
        default:
            // FIXME: priority-inheritance futexes (PTHREAD_PRIO_INHERIT mutexes)
            // need owner tracking; they come with threads.
            return errno_result(Errno::kENOSYS);
    }
}

// Answered ENOSYS on purpose: programs probe for these and fall back (none
// of the census programs used them).
int64_t sys_enosys(const SyscallArgs&) {
    return errno_result(Errno::kENOSYS);
}

// Only reached when a restart was set up for an interrupted call, which
// needs signal delivery; Linux answers EINTR when there is nothing to
// restart.
int64_t sys_restart_syscall(const SyscallArgs&) {
    return errno_result(Errno::kEINTR);
}

// clang-format off
const SyscallDef kMisc[] = {
    {__NR_futex, "futex", sys_futex, {Arg::kPtr, Arg::kHex, Arg::kUInt, Arg::kPtr, Arg::kPtr, Arg::kHex}},
    {__NR_membarrier, "membarrier", sys_enosys, {Arg::kInt, Arg::kHex, Arg::kInt}},
    {__NR_io_uring_setup, "io_uring_setup", sys_enosys, {Arg::kUInt, Arg::kPtr}},
    {__NR_io_uring_enter, "io_uring_enter", sys_enosys, {Arg::kFd, Arg::kUInt, Arg::kUInt, Arg::kHex, Arg::kPtr, Arg::kUInt}},
    {__NR_io_uring_register, "io_uring_register", sys_enosys, {Arg::kFd, Arg::kUInt, Arg::kPtr, Arg::kUInt}},
    {__NR_restart_syscall, "restart_syscall", sys_restart_syscall, {}},
};
// clang-format on

}  // namespace

extern const SyscallFamily kMiscFamily = {kMisc, sizeof(kMisc) / sizeof(kMisc[0])};

}  // namespace kiln::sys
