// The KVM objects of one VM: /dev/kvm, the VM with its memory slots and
// in-kernel local APIC, and its single vCPU with the shared kvm_run page.
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "guest_memory.h"

struct kvm_run;

namespace kiln::vmm {

struct Vm {
    int kvm_fd = -1;
    int vm_fd = -1;
    int vcpu_fd = -1;
    struct kvm_run* run = nullptr;
    bool pvm = false;  // /dev/kvm is kvm-pvm (/work/shared/PVM.md)
};

// Opens the KVM device ($KILN_KVM_DEVICE, default /dev/kvm); exits with a
// message saying how to fix a missing device or a permission problem.
int open_kvm();

// Creates the VM with `mem` as its RAM, KVM's local APIC (split irqchip)
// and vCPU 0 with CPUID set. Exits with a message on failure.
Vm create_vm(int kvm_fd, const GuestMemory& mem);

// Sets the CPUID of the vCPU from KVM_GET_SUPPORTED_CPUID (cpuid.cpp).
void setup_cpuid(int kvm_fd, int vcpu_fd);
// The XCR0 bits KVM lets the guest enable (CPUID leaf 0xd), 0 without XSAVE.
uint64_t supported_xcr0();

}  // namespace kiln::vmm
