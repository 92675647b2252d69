// The local APIC's timer as a one-shot event source (Intel SDM vol. 3A,
// ch. 11.5.4): TSC-deadline mode where offered, one-shot count mode
// otherwise; x2APIC MSRs where offered, the xAPIC MMIO page otherwise.
// Nothing ticks: the timer is armed only for the next deadline.
#pragma once

#include <stdint.h>

namespace kiln::arch {

inline constexpr uint8_t kTimerVector = 0x40;
inline constexpr uint8_t kSpuriousVector = 0xff;

// Arms the timer to fire once at `deadline_ns` (monotonic), replacing any
// earlier arming; `handler` runs in interrupt context. Sets the APIC up on
// first use.
void timer_arm(uint64_t deadline_ns, void (*handler)());
void timer_disarm();
uint64_t timer_interrupts();  // handled since boot
// Sets the local APIC up (if the timer has not) so it accepts MSIs.
void lapic_enable();
// End of interrupt, for handlers of other vectors than the timer's.
void lapic_eoi();
const char* timer_mode();

}  // namespace kiln::arch
