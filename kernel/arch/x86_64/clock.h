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

}  // namespace kiln::arch
