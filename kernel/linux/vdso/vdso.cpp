// The vDSO (Linux Documentation/ABI/stable/vdso): clock_gettime,
// gettimeofday, time and getcpu served in user mode from the vvar pages
// (vvar.h), so the hot time calls of python, nginx and redis never enter the
// kernel (a syscall round trip costs ~0.8 us on kvm-pvm). Clocks it cannot
// serve go to the real syscall. Built freestanding and position-independent
// (CMakeLists.txt); it must need no relocations, because nobody relocates
// it: every function is static or hidden, and data is reached RIP-relative.
#include <stdint.h>

#include "linux/vdso/vvar.h"

using namespace kiln::vdso;

// Defined by vdso.lds: the vvar pages below the image.
extern "C" const Vvar kiln_vvar __attribute__((visibility("hidden")));
extern "C" const PvclockTime kiln_pvclock __attribute__((visibility("hidden")));

namespace {

struct Timespec {
    int64_t tv_sec;
    int64_t tv_nsec;
};
struct Timeval {
    int64_t tv_sec;
    int64_t tv_usec;
};
struct Timezone {
    int32_t tz_minuteswest;
    int32_t tz_dsttime;
};

// <linux/time.h> clock ids and x86-64 syscall numbers.
constexpr int kClockRealtime = 0, kClockMonotonic = 1, kClockMonotonicRaw = 4,
              kClockRealtimeCoarse = 5, kClockMonotonicCoarse = 6, kClockBoottime = 7;
constexpr long kSysGettimeofday = 96, kSysTime = 201, kSysClockGettime = 228;
constexpr uint64_t kNsPerSec = 1000000000;

template <typename T>
T load(const T& v) {
    return *static_cast<const volatile T*>(&v);
}
inline void barrier() { asm volatile("" ::: "memory"); }

inline uint64_t rdtsc() {
    uint32_t lo, hi;
    asm volatile("rdtsc" : "=a"(lo), "=d"(hi));
    return (uint64_t(hi) << 32) | lo;
}

long syscall2(long nr, long a, long b) {
    long ret;
    asm volatile("syscall" : "=a"(ret) : "a"(nr), "D"(a), "S"(b) : "rcx", "r11", "memory");
    return ret;
}

// Monotonic ns and the wall clock's offset; false when the kernel gave the
// vDSO no clock (mode none), so the caller makes the syscall.
bool read_clock(uint64_t* mono, uint64_t* wall_offset) {
    for (;;) {
        uint32_t seq = load(kiln_vvar.seq);
        barrier();
        if (seq & 1) {
            asm volatile("pause");
            continue;
        }
        uint32_t mode = load(kiln_vvar.mode);
        uint64_t ns;
        if (mode == kModeTsc) {
            ns = tsc_monotonic_ns(rdtsc(), load(kiln_vvar.tsc_base), load(kiln_vvar.tsc_mult));
        } else if (mode == kModePvclock) {
            uint32_t v;
            do {
                v = load(kiln_pvclock.version);
                barrier();
                ns = pvclock_monotonic_ns(rdtsc(), load(kiln_pvclock.tsc_timestamp),
                                          load(kiln_pvclock.system_time),
                                          load(kiln_pvclock.tsc_to_system_mul),
                                          load(kiln_pvclock.tsc_shift));
                barrier();
            } while ((v & 1) || v != load(kiln_pvclock.version));
        } else {
            return false;
        }
        uint64_t wall = load(kiln_vvar.wall_at_zero);
        barrier();
        if (load(kiln_vvar.seq) != seq) continue;
        *mono = ns;
        *wall_offset = wall;
        return true;
    }
}

int do_clock_gettime(int clock, Timespec* ts) {
    uint64_t mono, wall;
    switch (clock) {
    case kClockRealtime:
    case kClockRealtimeCoarse:
    case kClockMonotonic:
    case kClockMonotonicCoarse:
    case kClockMonotonicRaw:
    case kClockBoottime:
        break;
    default:  // CPU-time clocks, TAI, per-process ids: the kernel's business
        return int(syscall2(kSysClockGettime, clock, reinterpret_cast<long>(ts)));
    }
    if (!read_clock(&mono, &wall)) {
        return int(syscall2(kSysClockGettime, clock, reinterpret_cast<long>(ts)));
    }
    // No periodic tick: the coarse clocks are the precise ones; BOOTTIME is
    // MONOTONIC because the VM never suspends.
    uint64_t ns = (clock == kClockRealtime || clock == kClockRealtimeCoarse) ? mono + wall : mono;
    ts->tv_sec = int64_t(ns / kNsPerSec);
    ts->tv_nsec = int64_t(ns % kNsPerSec);
    return 0;
}

int do_gettimeofday(Timeval* tv, Timezone* tz) {
    uint64_t mono, wall;
    if (!read_clock(&mono, &wall)) {
        return int(syscall2(kSysGettimeofday, reinterpret_cast<long>(tv), reinterpret_cast<long>(tz)));
    }
    if (tv) {
        uint64_t ns = mono + wall;
        tv->tv_sec = int64_t(ns / kNsPerSec);
        tv->tv_usec = int64_t(ns % kNsPerSec / 1000);
    }
    if (tz) {  // the kernel's timezone is UTC
        tz->tz_minuteswest = 0;
        tz->tz_dsttime = 0;
    }
    return 0;
}

int64_t do_time(int64_t* t) {
    uint64_t mono, wall;
    if (!read_clock(&mono, &wall)) return syscall2(kSysTime, reinterpret_cast<long>(t), 0);
    int64_t s = int64_t((mono + wall) / kNsPerSec);
    if (t) *t = s;
    return s;
}

// One vCPU: always CPU 0 on node 0.
long do_getcpu(unsigned* cpu, unsigned* node, void*) {
    if (cpu) *cpu = 0;
    if (node) *node = 0;
    return 0;
}

}  // namespace

#define VDSO_EXPORT extern "C" __attribute__((visibility("default")))

VDSO_EXPORT int __vdso_clock_gettime(int clock, Timespec* ts) { return do_clock_gettime(clock, ts); }
VDSO_EXPORT int __vdso_gettimeofday(Timeval* tv, Timezone* tz) { return do_gettimeofday(tv, tz); }
VDSO_EXPORT int64_t __vdso_time(int64_t* t) { return do_time(t); }
VDSO_EXPORT long __vdso_getcpu(unsigned* cpu, unsigned* node, void* cache) {
    return do_getcpu(cpu, node, cache);
}

// The unprefixed names, weak, as Linux's vDSO has them.
VDSO_EXPORT int clock_gettime(int, Timespec*) __attribute__((weak, alias("__vdso_clock_gettime")));
VDSO_EXPORT int gettimeofday(Timeval*, Timezone*) __attribute__((weak, alias("__vdso_gettimeofday")));
VDSO_EXPORT int64_t time(int64_t*) __attribute__((weak, alias("__vdso_time")));
VDSO_EXPORT long getcpu(unsigned*, unsigned*, void*) __attribute__((weak, alias("__vdso_getcpu")));

// ELF note "Linux" (type 0, LINUX_VERSION_CODE): some libcs read the
// kernel version from the vDSO instead of calling uname. 6.1.0, Debian 12's.
asm(R"(
    .pushsection .note.Linux, "a", @note
    .balign 4
    .long 6, 4, 0
    .asciz "Linux"
    .balign 4
    .long 0x060100
    .popsection
)");
