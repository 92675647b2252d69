// A userspace I/O APIC (82093AA data sheet, §3) for KVM's split irqchip: the
// local APIC (x2APIC, TSC-deadline timer) stays inside KVM, while the I/O
// APIC and the PIC are left to the monitor. kiln-vmm uses the split because
// tearing down KVM's full in-kernel irqchip (PIC + IOAPIC) costs ~14 ms per
// VM on kvm-pvm (one expedited SRCU grace period per I/O device it
// unregisters), ten times the whole budget of a boot.
//
// Device interrupt pins are turned into MSIs (KVM_SIGNAL_MSI) using the
// redirection entry the guest programmed. The PIC is absent: its ports read
// 0xff (all masked).
//
// The vCPU thread (register accesses, console interrupts) and virtio-net's
// I/O thread (its interrupts) both drive it: every entry point takes lock_.
#pragma once

#include <stdint.h>

#include <mutex>

#include "abi/boot.h"

namespace kiln::vmm {

inline constexpr uint64_t kIoapicBase = abi::kIoapicGpa;
inline constexpr uint64_t kIoapicSize = 0x1000;
inline constexpr uint32_t kIoapicPins = 24;

class Ioapic {
public:
    explicit Ioapic(int vm_fd) : vm_fd_(vm_fd) {
        for (uint64_t& e : redirection_) e = kMasked;
    }

    // A guest access at `offset` into the I/O APIC window.
    void read(uint64_t offset, uint8_t* data, uint32_t len);
    void write(uint64_t offset, const uint8_t* data, uint32_t len);

    // Drives input `pin`. An unmasked pin delivers its vector on a rising
    // edge (and while held high, on each new raise: see set_level()).
    void set_level(uint32_t pin, bool high);

private:
    static constexpr uint64_t kMasked = 1ull << 16;
    void deliver(uint32_t pin);
    uint32_t read_register(uint32_t index) const;
    void write_register(uint32_t index, uint32_t value);

    std::mutex lock_;
    int vm_fd_;
    uint32_t select_ = 0;  // IOREGSEL
    uint32_t id_ = 0;
    uint64_t redirection_[kIoapicPins];
    bool level_[kIoapicPins] = {};
};

}  // namespace kiln::vmm
