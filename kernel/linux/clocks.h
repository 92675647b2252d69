// POSIX clocks as clock_gettime(2), clock_getres(2) and clock_nanosleep(2)
// see them, over the kernel's two time sources: monotonic nanoseconds since
// boot and the wall clock. Pure, so the rules are tested on the host.
//
// kiln does not suspend and keeps no separate CPU accounting: BOOTTIME is
// MONOTONIC, TAI is REALTIME (Linux's TAI offset is 0 until NTP sets it),
// the *_COARSE and _RAW clocks read the precise source, and the CPU-time
// clocks report time since boot (the one process is on the CPU from boot
// until it blocks, which in a unikernel is close enough and never runs
// backwards).
#pragma once

#include <stdint.h>

#include "kiln/result.h"
#include "linux/timespec.h"

namespace kiln::sys {

// Clock ids (include/uapi/linux/time.h).
inline constexpr int32_t kClockRealtime = 0;
inline constexpr int32_t kClockMonotonic = 1;
inline constexpr int32_t kClockProcessCputimeId = 2;
inline constexpr int32_t kClockThreadCputimeId = 3;
inline constexpr int32_t kClockMonotonicRaw = 4;
inline constexpr int32_t kClockRealtimeCoarse = 5;
inline constexpr int32_t kClockMonotonicCoarse = 6;
inline constexpr int32_t kClockBoottime = 7;
inline constexpr int32_t kClockRealtimeAlarm = 8;
inline constexpr int32_t kClockBoottimeAlarm = 9;
inline constexpr int32_t kClockTai = 11;
inline constexpr uint32_t kTimerAbstime = 1;

// One reading of the time sources, taken once per call.
struct ClockSample {
    uint64_t monotonic_ns;
    uint64_t wall_ns;
};

// Who "self" is for the CPU-clock ids that name a process or thread
// (clock_getcpuclockid(3), pthread_getcpuclockid(3)).
struct ClockOwner {
    int32_t pid;
    int32_t tid;
};

// The time on clock `id`, in nanoseconds. EINVAL for an unknown id or a CPU
// clock of another process or thread.
Result<uint64_t> clock_read(int32_t id, const ClockSample& now, ClockOwner self);

// The resolution of clock `id` (1 ns for every clock: all read the precise
// source). EINVAL as clock_read.
Result<uint64_t> clock_resolution(int32_t id, ClockOwner self);

// The monotonic deadline of clock_nanosleep(id, flags, req): relative or
// TIMER_ABSTIME. EINVAL for a bad timespec, an unknown clock or a thread CPU
// clock; EOPNOTSUPP for clocks Linux cannot sleep on (MONOTONIC_RAW and the
// coarse clocks). An absolute time already past gives a deadline of now.
Result<uint64_t> sleep_deadline(int32_t id, uint32_t flags, const KernelTimespec& req,
                                const ClockSample& now, ClockOwner self);

}  // namespace kiln::sys
