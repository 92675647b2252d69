// vCPU register state: the two entry states of lib/abi/boot.h and the
// register dump printed when the guest dies without an exit status.
#pragma once

#include "boot_setup.h"
#include "kernel_image.h"
#include "kvm_vm.h"

namespace kiln::vmm {

// Loads the entry state for the image's entry kind into vCPU 0.
// tables: the kernel's own page tables (boot_setup.h) or null for the boot tables.
void set_entry_state(const Vm& vm, const KernelImage& image, const KernelTables* tables);

// Writes RIP, general registers, control registers and segments to stderr.
void dump_registers(const Vm& vm);

}  // namespace kiln::vmm
