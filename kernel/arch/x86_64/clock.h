// Time: kvmclock (pvclock) where the hypervisor offers it, the TSC with a
// known or calibrated frequency otherwise. Monotonic nanoseconds since boot
// and the wall clock. Set up on first use: a boot that never asks the time
// never pays for the CPUID and MSR exits it costs on kvm-pvm.
#pragma once

#include <stdint.h>

namespace kiln::arch {

uint64_t monotonic_ns();
// Nanoseconds since the Unix epoch (kvmclock's wall clock or the CMOS RTC).
uint64_t wall_ns();
uint64_t tsc_hz();
// Converts a monotonic deadline to a TSC value (for TSC-deadline timers).
uint64_t tsc_at(uint64_t monotonic_deadline_ns);
const char* clock_source();

// What user mode needs to compute monotonic_ns() and wall_ns() itself, with
// the same base and scaling (the vDSO, linux/vdso/vvar.h).
struct ClockParams {
    enum class Mode : uint32_t { kTsc, kKvmclock } mode;
    uint64_t tsc_base;      // kTsc: ns = ((rdtsc - tsc_base) * tsc_mult) >> 32
    uint64_t tsc_mult;
    uint64_t wall_at_zero;  // wall_ns() = monotonic_ns() + wall_at_zero
    // kKvmclock: a consistent copy of pvclock_vcpu_time_info's fields
    // (ns = system_time + ((rdtsc - tsc_timestamp) << shift) * mul >> 32),
    // and where the live structure is.
    uint64_t pv_tsc_timestamp;
    uint64_t pv_system_time;
    uint32_t pv_mul;
    int8_t pv_shift;
    uint64_t pvclock_phys;
};
ClockParams clock_params();

}  // namespace kiln::arch
