// kvm-pvm's paravirtual interface as measured (../shared/PVM.md): the vIF
// page, hypercalls through int $0x1b, and the doorbell.
#pragma once

#include <stdint.h>

namespace kiln::arch {

// The vIF page registered with MSR 0x4b564d10 (boot.S).
struct Vif {
    volatile uint8_t if_;      // the interrupt flag: 0 masks events
    volatile uint8_t pending;  // set by kvm-pvm when an event waits for if_
    uint8_t pad[6];
    volatile uint64_t cr2;  // page-fault address (switch flag bit 4)
};
extern "C" Vif kiln_vif;

inline constexpr uint64_t kPvmHcSetCr3 = 0x1001;
inline constexpr uint64_t kPvmHcWrmsr = 0x1003;
inline constexpr uint64_t kPvmHcFlushTlb = 0x1007;
inline constexpr uint64_t kPvmHcFlushTlbOne = 0x1008;
inline constexpr uint64_t kPvmHcHalt = 0x1009;

inline int64_t pvm_hypercall(uint64_t nr, uint64_t a0 = 0, uint64_t a1 = 0, uint64_t a2 = 0) {
    int64_t ret;
    asm volatile("int $0x1b" : "=a"(ret) : "a"(nr), "b"(a0), "c"(a1), "d"(a2) : "memory");
    return ret;
}

// Asks kvm-pvm to deliver an event that became pending while masked.
inline void pvm_doorbell() {
    asm volatile("outb %%al, $0x80" ::: "memory", "rax");
}

}  // namespace kiln::arch
