// Timespec conversions, clock ids and sleep deadlines (kernel/linux/
// timespec.h, clocks.h; clock_gettime(2), clock_nanosleep(2), nanosleep(2)).
#include <gtest/gtest.h>

#include "linux/clocks.h"
#include "linux/futex_op.h"
#include "linux/timespec.h"

using kiln::Errno;
using namespace kiln::sys;

namespace {

constexpr ClockSample kNow{5 * kNsPerSec + 250, 1'700'000'000 * kNsPerSec + 7};
constexpr ClockOwner kSelf{1, 1};

TEST(Timespec, Validity) {
    EXPECT_TRUE(timespec_valid({0, 0}));
    EXPECT_TRUE(timespec_valid({1, 999'999'999}));
    EXPECT_FALSE(timespec_valid({0, 1'000'000'000}));
    EXPECT_FALSE(timespec_valid({0, -1}));
    EXPECT_FALSE(timespec_valid({-1, 0}));
    EXPECT_TRUE(timeval_valid({3, 999'999}));
    EXPECT_FALSE(timeval_valid({3, 1'000'000}));
    EXPECT_FALSE(timeval_valid({-1, 0}));
}

TEST(Timespec, Conversions) {
    EXPECT_EQ(timespec_to_ns({2, 5}), 2 * uint64_t(kNsPerSec) + 5);
    EXPECT_EQ(timespec_to_ns({INT64_MAX, 999'999'999}), kNsForever);
    EXPECT_EQ(timeval_to_ns({1, 2}), uint64_t(kNsPerSec) + 2000);
    KernelTimespec ts = ns_to_timespec(3 * kNsPerSec + 42);
    EXPECT_EQ(ts.tv_sec, 3);
    EXPECT_EQ(ts.tv_nsec, 42);
    KernelTimeval tv = ns_to_timeval(3 * kNsPerSec + 1'999);
    EXPECT_EQ(tv.tv_sec, 3);
    EXPECT_EQ(tv.tv_usec, 1);
    EXPECT_EQ(add_ns_saturating(kNsForever - 1, 5), kNsForever);
}

TEST(Clocks, ReadsTheRightSource) {
    EXPECT_EQ(clock_read(kClockRealtime, kNow, kSelf).value(), kNow.wall_ns);
    EXPECT_EQ(clock_read(kClockRealtimeCoarse, kNow, kSelf).value(), kNow.wall_ns);
    EXPECT_EQ(clock_read(kClockTai, kNow, kSelf).value(), kNow.wall_ns);
    for (int32_t id : {kClockMonotonic, kClockMonotonicRaw, kClockMonotonicCoarse, kClockBoottime,
                       kClockProcessCputimeId, kClockThreadCputimeId}) {
        EXPECT_EQ(clock_read(id, kNow, kSelf).value(), kNow.monotonic_ns) << id;
    }
}

TEST(Clocks, UnknownIdsAreEinval) {
    for (int32_t id : {10, 12, 16, 1000}) {
        auto r = clock_read(id, kNow, kSelf);
        ASSERT_FALSE(r.ok()) << id;
        EXPECT_EQ(r.error(), Errno(EINVAL));
        EXPECT_FALSE(clock_resolution(id, kSelf).ok());
    }
    EXPECT_EQ(clock_resolution(kClockMonotonic, kSelf).value(), 1u);
}

// clock_getcpuclockid(3) / pthread_getcpuclockid(3) encode a pid or tid.
constexpr int32_t process_cpu_clock(int32_t pid) {
    return (~pid << 3) | 2;
}
constexpr int32_t thread_cpu_clock(int32_t tid) {
    return (~tid << 3) | 4 | 2;
}

TEST(Clocks, CpuClocksOfSelfOnly) {
    EXPECT_TRUE(clock_read(process_cpu_clock(0), kNow, kSelf).ok());
    EXPECT_TRUE(clock_read(process_cpu_clock(1), kNow, kSelf).ok());
    EXPECT_TRUE(clock_read(thread_cpu_clock(1), kNow, kSelf).ok());
    EXPECT_FALSE(clock_read(process_cpu_clock(2), kNow, kSelf).ok());
    EXPECT_FALSE(clock_read(thread_cpu_clock(7), kNow, kSelf).ok());
    EXPECT_FALSE(clock_read((~0 << 3) | 3, kNow, kSelf).ok());  // an fd clock
}

TEST(Clocks, RelativeSleep) {
    auto d = sleep_deadline(kClockMonotonic, 0, {1, 5}, kNow, kSelf);
    EXPECT_EQ(d.value(), kNow.monotonic_ns + kNsPerSec + 5);
    // A relative sleep on the realtime clock is measured the same way.
    EXPECT_EQ(sleep_deadline(kClockRealtime, 0, {1, 5}, kNow, kSelf).value(), d.value());
}

TEST(Clocks, AbsoluteSleep) {
    EXPECT_EQ(sleep_deadline(kClockMonotonic, kTimerAbstime, {7, 0}, kNow, kSelf).value(),
              7 * uint64_t(kNsPerSec));
    // Realtime absolute: converted to the monotonic clock.
    KernelTimespec at = ns_to_timespec(kNow.wall_ns + 3 * kNsPerSec);
    EXPECT_EQ(sleep_deadline(kClockRealtime, kTimerAbstime, at, kNow, kSelf).value(),
              kNow.monotonic_ns + 3 * kNsPerSec);
    // In the past: return at once.
    EXPECT_EQ(sleep_deadline(kClockRealtime, kTimerAbstime, {1, 0}, kNow, kSelf).value(),
              kNow.monotonic_ns);
    EXPECT_EQ(sleep_deadline(kClockMonotonic, kTimerAbstime, {0, 0}, kNow, kSelf).value(),
              kNow.monotonic_ns);
}

TEST(Clocks, SleepErrors) {
    EXPECT_EQ(sleep_deadline(kClockMonotonic, 0, {0, kNsPerSec}, kNow, kSelf).error(),
              Errno(EINVAL));
    EXPECT_EQ(sleep_deadline(kClockMonotonic, 0, {-1, 0}, kNow, kSelf).error(), Errno(EINVAL));
    EXPECT_EQ(sleep_deadline(kClockThreadCputimeId, 0, {1, 0}, kNow, kSelf).error(), Errno(EINVAL));
    EXPECT_EQ(sleep_deadline(kClockMonotonicRaw, 0, {1, 0}, kNow, kSelf).error(),
              Errno(EOPNOTSUPP));
    EXPECT_EQ(sleep_deadline(kClockRealtimeCoarse, 0, {1, 0}, kNow, kSelf).error(),
              Errno(EOPNOTSUPP));
    EXPECT_EQ(sleep_deadline(42, 0, {1, 0}, kNow, kSelf).error(), Errno(EINVAL));
    EXPECT_TRUE(sleep_deadline(kClockProcessCputimeId, 0, {1, 0}, kNow, kSelf).ok());
    EXPECT_TRUE(sleep_deadline(kClockBoottime, 0, {1, 0}, kNow, kSelf).ok());
}

TEST(Clocks, HugeSleepSaturates) {
    auto d = sleep_deadline(kClockMonotonic, 0, {INT64_MAX, 0}, kNow, kSelf);
    EXPECT_EQ(d.value(), kNsForever);
}

TEST(Futex, DecodesOps) {
    auto op = decode_futex_op(kFutexWaitBitset | kFutexPrivateFlag | kFutexClockRealtime);
    ASSERT_TRUE(op.ok());
    EXPECT_EQ(op->cmd, kFutexWaitBitset);
    EXPECT_TRUE(op->priv);
    EXPECT_TRUE(op->realtime);
    EXPECT_EQ(decode_futex_op(kFutexWake | kFutexPrivateFlag)->cmd, kFutexWake);
    EXPECT_EQ(decode_futex_op(kFutexWake | kFutexClockRealtime).error(), Errno(ENOSYS));
    EXPECT_EQ(decode_futex_op(kFutexFd).error(), Errno(ENOSYS));
    EXPECT_EQ(decode_futex_op(14).error(), Errno(ENOSYS));
    EXPECT_TRUE(decode_futex_op(kFutexWait | kFutexClockRealtime).ok());
}

TEST(Futex, WaitDeadlines) {
    FutexOp wait{kFutexWait, true, false};
    EXPECT_EQ(futex_wait_deadline(wait, nullptr, kNow).value(), kNsForever);
    KernelTimespec rel{0, 1000};
    EXPECT_EQ(futex_wait_deadline(wait, &rel, kNow).value(), kNow.monotonic_ns + 1000);
    // WAIT_BITSET is absolute, on CLOCK_MONOTONIC or CLOCK_REALTIME.
    FutexOp bitset{kFutexWaitBitset, true, false};
    KernelTimespec abs = ns_to_timespec(kNow.monotonic_ns + 500);
    EXPECT_EQ(futex_wait_deadline(bitset, &abs, kNow).value(), kNow.monotonic_ns + 500);
    FutexOp bitset_rt{kFutexWaitBitset, true, true};
    abs = ns_to_timespec(kNow.wall_ns + 500);
    EXPECT_EQ(futex_wait_deadline(bitset_rt, &abs, kNow).value(), kNow.monotonic_ns + 500);
    abs = {0, 0};
    EXPECT_EQ(futex_wait_deadline(bitset_rt, &abs, kNow).value(), kNow.monotonic_ns);
    KernelTimespec bad{0, kNsPerSec};
    EXPECT_EQ(futex_wait_deadline(wait, &bad, kNow).error(), Errno(EINVAL));
}

constexpr uint32_t futex_op_word(uint32_t op, uint32_t oparg, uint32_t cmp, uint32_t cmparg) {
    return ((op & 0xf) << 28) | ((cmp & 0xf) << 24) | ((oparg & 0xfff) << 12) | (cmparg & 0xfff);
}

TEST(Futex, WakeOp) {
    bool wake2 = false;
    // glibc's old condvar: FUTEX_OP(FUTEX_OP_CLEAR_WAKE_IF_GT_ONE) = SET 0, CMP_GT 1.
    EXPECT_EQ(futex_wake_op(futex_op_word(0, 0, 4, 1), 2, &wake2).value(), 0u);
    EXPECT_TRUE(wake2);
    EXPECT_EQ(futex_wake_op(futex_op_word(0, 0, 4, 1), 1, &wake2).value(), 0u);
    EXPECT_FALSE(wake2);
    EXPECT_EQ(futex_wake_op(futex_op_word(1, 3, 0, 5), 5, &wake2).value(), 8u);  // ADD, EQ
    EXPECT_TRUE(wake2);
    EXPECT_EQ(futex_wake_op(futex_op_word(2, 4, 1, 0), 1, &wake2).value(), 5u);  // OR, NE
    EXPECT_TRUE(wake2);
    EXPECT_EQ(futex_wake_op(futex_op_word(3, 1, 2, 0), 3, &wake2).value(), 2u);  // ANDN, LT
    EXPECT_FALSE(wake2);
    EXPECT_EQ(futex_wake_op(futex_op_word(4, 1, 5, 0), 3, &wake2).value(), 2u);  // XOR, GE
    EXPECT_TRUE(wake2);
    // FUTEX_OP_OPARG_SHIFT: oparg is a shift count.
    EXPECT_EQ(futex_wake_op(futex_op_word(8 | 2, 4, 0, 0), 0, &wake2).value(), 16u);
    // Negative arguments are sign-extended 12-bit values.
    EXPECT_EQ(futex_wake_op(futex_op_word(1, 0xfff, 2, 0), 5, &wake2).value(), 4u);
    EXPECT_FALSE(wake2);
    EXPECT_EQ(futex_wake_op(futex_op_word(0, 0, 2, 0xfff), uint32_t(-2), &wake2).value(), 0u);
    EXPECT_TRUE(wake2);  // -2 < -1
    EXPECT_EQ(futex_wake_op(futex_op_word(5, 0, 0, 0), 0, &wake2).error(), Errno(ENOSYS));
    EXPECT_EQ(futex_wake_op(futex_op_word(0, 0, 6, 0), 0, &wake2).error(), Errno(ENOSYS));
}

}  // namespace
