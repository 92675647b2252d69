// futex(2) argument rules: decoding the op word, the timeout of the wait
// operations, and FUTEX_WAKE_OP's encoded operation. Pure, host-tested; the
// waiting itself is in misc.cpp.
#pragma once

#include <stdint.h>

#include "kiln/result.h"
#include "linux/clocks.h"
#include "linux/timespec.h"

namespace kiln::sys {

// Operations (include/uapi/linux/futex.h).
inline constexpr int kFutexWait = 0;
inline constexpr int kFutexWake = 1;
inline constexpr int kFutexFd = 2;
inline constexpr int kFutexRequeue = 3;
inline constexpr int kFutexCmpRequeue = 4;
inline constexpr int kFutexWakeOp = 5;
inline constexpr int kFutexLockPi = 6;
inline constexpr int kFutexUnlockPi = 7;
inline constexpr int kFutexTrylockPi = 8;
inline constexpr int kFutexWaitBitset = 9;
inline constexpr int kFutexWakeBitset = 10;
inline constexpr int kFutexWaitRequeuePi = 11;
inline constexpr int kFutexCmpRequeuePi = 12;
inline constexpr int kFutexLockPi2 = 13;
inline constexpr int kFutexPrivateFlag = 128;
inline constexpr int kFutexClockRealtime = 256;
inline constexpr uint32_t kFutexBitsetMatchAny = 0xffffffffu;

struct FutexOp {
    int cmd;        // kFutexWait, ...
    bool priv;      // FUTEX_PRIVATE_FLAG
    bool realtime;  // FUTEX_CLOCK_REALTIME
};

// ENOSYS for an unknown command, or FUTEX_CLOCK_REALTIME on a command that
// takes no clock (Linux accepts it on WAIT, WAIT_BITSET, WAIT_REQUEUE_PI and
// LOCK_PI2).
Result<FutexOp> decode_futex_op(int op);

// The monotonic deadline of a wait, kNsForever without a timeout. FUTEX_WAIT
// takes a relative timeout; FUTEX_WAIT_BITSET an absolute time on
// CLOCK_MONOTONIC, or CLOCK_REALTIME with the flag. EINVAL for a bad
// timespec.
Result<uint64_t> futex_wait_deadline(const FutexOp& op, const KernelTimespec* timeout,
                                     const ClockSample& now);

// FUTEX_WAKE_OP's operation on the old value of *uaddr2: the new value to
// store, and in *wake2 whether waiters on uaddr2 are to be woken as well.
// ENOSYS for an unknown operation or comparison (as Linux).
Result<uint32_t> futex_wake_op(uint32_t encoded, uint32_t old_value, bool* wake2);

}  // namespace kiln::sys
