// Time values at the syscall boundary: struct __kernel_timespec, timeval and
// itimerval as x86-64 Linux lays them out, with checked conversions to and
// from the kernel's nanoseconds. Pure: built into the kernel and into the
// host unit tests (where <linux/time.h> would clash with the C library's
// <time.h>, so the layouts are spelt out here and checked by size).
#pragma once

#include <stdint.h>

namespace kiln::sys {

inline constexpr int64_t kNsPerSec = 1'000'000'000;
inline constexpr int64_t kNsPerUsec = 1'000;
inline constexpr uint64_t kNsForever = ~uint64_t{0};

struct KernelTimespec {  // struct __kernel_timespec
    int64_t tv_sec;
    int64_t tv_nsec;
};
static_assert(sizeof(KernelTimespec) == 16);

struct KernelTimeval {  // struct __kernel_old_timeval (gettimeofday, setitimer)
    int64_t tv_sec;
    int64_t tv_usec;
};
static_assert(sizeof(KernelTimeval) == 16);

struct KernelItimerval {  // struct itimerval
    KernelTimeval it_interval;
    KernelTimeval it_value;
};
static_assert(sizeof(KernelItimerval) == 32);

struct KernelTimezone {  // struct timezone: always zero here (UTC, no DST)
    int32_t tz_minuteswest;
    int32_t tz_dsttime;
};
static_assert(sizeof(KernelTimezone) == 8);

// nanosleep(2), clock_nanosleep(2), futex(2): "tv_nsec ... in the range 0 to
// 999999999", and seconds not negative.
constexpr bool timespec_valid(const KernelTimespec& ts) {
    return ts.tv_sec >= 0 && ts.tv_nsec >= 0 && ts.tv_nsec < kNsPerSec;
}

// setitimer(2): EINVAL when tv_usec is outside 0..999999 (or seconds < 0).
constexpr bool timeval_valid(const KernelTimeval& tv) {
    return tv.tv_sec >= 0 && tv.tv_usec >= 0 && tv.tv_usec < 1'000'000;
}

// A valid timespec as nanoseconds, saturating at kNsForever (about 584 years,
// far beyond any deadline that can come due).
constexpr uint64_t timespec_to_ns(const KernelTimespec& ts) {
    const uint64_t sec = static_cast<uint64_t>(ts.tv_sec);
    if (sec > (kNsForever - static_cast<uint64_t>(ts.tv_nsec)) / kNsPerSec) return kNsForever;
    return sec * kNsPerSec + static_cast<uint64_t>(ts.tv_nsec);
}

constexpr uint64_t timeval_to_ns(const KernelTimeval& tv) {
    return timespec_to_ns(KernelTimespec{tv.tv_sec, tv.tv_usec * kNsPerUsec});
}

constexpr KernelTimespec ns_to_timespec(uint64_t ns) {
    return KernelTimespec{static_cast<int64_t>(ns / kNsPerSec),
                          static_cast<int64_t>(ns % kNsPerSec)};
}

constexpr KernelTimeval ns_to_timeval(uint64_t ns) {
    return KernelTimeval{static_cast<int64_t>(ns / kNsPerSec),
                         static_cast<int64_t>(ns % kNsPerSec / kNsPerUsec)};
}

// a + b without wrapping past kNsForever.
constexpr uint64_t add_ns_saturating(uint64_t a, uint64_t b) {
    return b > kNsForever - a ? kNsForever : a + b;
}

}  // namespace kiln::sys
