// The data the kernel shares with the vDSO: two read-only pages mapped just
// below the vDSO image. Page 0 is Vvar (filled by the kernel); page 1 is the
// hypervisor's pvclock_vcpu_time_info page itself in kvmclock mode, so the
// vDSO sees every update the kernel sees. The arithmetic is the kernel's
// (arch/x86_64/clock.cpp): the same base and scaling, so a time read through
// the vDSO and one read through a syscall agree to the nanosecond.
// Compiled into the kernel, into the vDSO (-fPIC, freestanding) and into the
// host tests.
#pragma once

#include <stdint.h>

namespace kiln::vdso {

inline constexpr uint64_t kPageSize = 4096;
// The vvar pages sit right below the vDSO's first page.
inline constexpr uint64_t kVvarPages = 2;
inline constexpr uint64_t kVvarOffset = 0;     // Vvar, from the bottom of the pair
inline constexpr uint64_t kPvclockOffset = kPageSize;

// What serves the time; kModeNone makes every call a real syscall.
inline constexpr uint32_t kModeNone = 0;
inline constexpr uint32_t kModeTsc = 1;      // ns = ((rdtsc - tsc_base) * tsc_mult) >> 32
inline constexpr uint32_t kModePvclock = 2;  // kvmclock: the pvclock page

struct Vvar {
    uint32_t seq;   // odd while the kernel rewrites the fields below
    uint32_t mode;  // kMode*
    uint64_t tsc_base;
    uint64_t tsc_mult;
    uint64_t wall_at_zero;  // REALTIME = MONOTONIC + wall_at_zero
};

// struct pvclock_vcpu_time_info (Linux Documentation/virt/kvm/x86/msr.rst).
struct PvclockTime {
    uint32_t version;  // odd while the hypervisor updates it
    uint32_t pad0;
    uint64_t tsc_timestamp;
    uint64_t system_time;
    uint32_t tsc_to_system_mul;
    int8_t tsc_shift;
    uint8_t flags;
    uint8_t pad[2];
};
static_assert(sizeof(PvclockTime) == 32);

inline uint64_t mul_shift32(uint64_t a, uint64_t b) {
    return static_cast<uint64_t>((static_cast<unsigned __int128>(a) * b) >> 32);
}

// arch::monotonic_ns() in TSC mode.
inline uint64_t tsc_monotonic_ns(uint64_t tsc, uint64_t tsc_base, uint64_t tsc_mult) {
    return mul_shift32(tsc - tsc_base, tsc_mult);
}

// arch::monotonic_ns() in kvmclock mode, from one consistent snapshot.
inline uint64_t pvclock_monotonic_ns(uint64_t tsc, uint64_t tsc_timestamp, uint64_t system_time,
                                     uint32_t mul, int8_t shift) {
    uint64_t delta = tsc - tsc_timestamp;
    delta = shift >= 0 ? delta << shift : delta >> -shift;
    return system_time + mul_shift32(delta, mul);
}

}  // namespace kiln::vdso
