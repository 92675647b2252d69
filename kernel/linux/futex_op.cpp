#include "linux/futex_op.h"

namespace kiln::sys {

Result<FutexOp> decode_futex_op(int op) {
    FutexOp f{op & ~(kFutexPrivateFlag | kFutexClockRealtime), (op & kFutexPrivateFlag) != 0,
              (op & kFutexClockRealtime) != 0};
    if (f.cmd < kFutexWait || f.cmd > kFutexLockPi2 || f.cmd == kFutexFd) {
        return Error(Errno::kENOSYS);
    }
    if (f.realtime && f.cmd != kFutexWait && f.cmd != kFutexWaitBitset &&
        f.cmd != kFutexWaitRequeuePi && f.cmd != kFutexLockPi2) {
        return Error(Errno::kENOSYS);
    }
    return f;
}

Result<uint64_t> futex_wait_deadline(const FutexOp& op, const KernelTimespec* timeout,
                                     const ClockSample& now) {
    if (timeout == nullptr) return kNsForever;
    if (!timespec_valid(*timeout)) return Error(Errno::kEINVAL);
    const uint64_t ns = timespec_to_ns(*timeout);
    if (op.cmd == kFutexWait) return add_ns_saturating(now.monotonic_ns, ns);
    const uint64_t clock_now = op.realtime ? now.wall_ns : now.monotonic_ns;
    if (ns <= clock_now) return now.monotonic_ns;
    return add_ns_saturating(now.monotonic_ns, ns - clock_now);
}

Result<uint32_t> futex_wake_op(uint32_t encoded, uint32_t old_value, bool* wake2) {
    // FUTEX_OP(op, oparg, cmp, cmparg): op in bits 28-31 (bit 31 =
    // FUTEX_OP_OPARG_SHIFT), cmp in 24-27, oparg 12-23, cmparg 0-11; the
    // arguments are sign-extended 12-bit values.
    uint32_t op = (encoded >> 28) & 7;
    const bool shift = (encoded >> 31) != 0;
    const uint32_t cmp = (encoded >> 24) & 15;
    int32_t oparg = static_cast<int32_t>(encoded << 8) >> 20;
    const int32_t cmparg = static_cast<int32_t>(encoded << 20) >> 20;
    if (shift) {
        // Linux: a shift outside 0..31 is masked (and warned about).
        oparg = static_cast<int32_t>(1u << (static_cast<uint32_t>(oparg) & 31));
    }
    const uint32_t arg = static_cast<uint32_t>(oparg);
    uint32_t v;
    switch (op) {
        case 0:
            v = arg;
            break;  // FUTEX_OP_SET
        case 1:
            v = old_value + arg;
            break;  // FUTEX_OP_ADD
        case 2:
            v = old_value | arg;
            break;  // FUTEX_OP_OR
        case 3:
            v = old_value & ~arg;
            break;  // FUTEX_OP_ANDN
        case 4:
            v = old_value ^ arg;
            break;  // FUTEX_OP_XOR
        default:
            return Error(Errno::kENOSYS);
    }
    const int32_t old = static_cast<int32_t>(old_value);
    switch (cmp) {
        case 0:
            *wake2 = old == cmparg;
            break;  // FUTEX_OP_CMP_EQ
        case 1:
            *wake2 = old != cmparg;
            break;  // NE
        case 2:
            *wake2 = old < cmparg;
            break;  // LT
        case 3:
            *wake2 = old <= cmparg;
            break;  // LE
        case 4:
            *wake2 = old > cmparg;
            break;  // GT
        case 5:
            *wake2 = old >= cmparg;
            break;  // GE
        default:
            return Error(Errno::kENOSYS);
    }
    return v;
}

}  // namespace kiln::sys
