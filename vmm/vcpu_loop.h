// The vCPU run loop: KVM_RUN, and each exit dispatched to the exit port, the
// UART, the virtio-mmio devices or a crash report.
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "console_port.h"
#include "ioapic.h"
#include "kvm_vm.h"
#include "uart.h"
#include "virtio_mmio.h"

namespace kiln::vmm {

struct ExitCounters {
    uint64_t exits = 0;          // every return from KVM_RUN
    uint64_t io = 0;             // KVM_EXIT_IO
    uint64_t mmio = 0;           // KVM_EXIT_MMIO
    uint64_t hlt = 0;            // KVM_EXIT_HLT
    uint64_t other = 0;          // everything else (including EINTR)
    uint64_t unknown_ports = 0;  // I/O or MMIO accesses nothing claims (subset of io/mmio)
};

struct Machine {
    Vm& vm;
    Uart16550& uart;
    ConsolePort& console_port;
    Ioapic& ioapic;
    VirtioMmio* const* devices;  // slot i at kVirtioMmioBase + i * kVirtioMmioStride
    size_t device_count;
    ExitCounters counters;
};

// Runs vCPU 0 until the guest ends; returns kiln-vmm's exit status (the
// exit-port value, or kStatusGuestCrashed with a report on stderr).
int run_vcpu(Machine& m);

}  // namespace kiln::vmm
