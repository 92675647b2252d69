// The kernel ELF: read from disk, checked, its entry point chosen from the
// boot notes (lib/abi/boot.h), and its PT_LOAD segments copied into guest RAM
// at their physical addresses.
#pragma once

#include <stdint.h>

#include "abi/boot.h"
#include "guest_memory.h"
#include "kiln/elf.h"

namespace kiln::vmm {

enum class EntryKind {
    kLong64,  // "Kiln" note type 1: 64-bit entry, monitor-built page tables
    kPvh32,   // "Xen" note type 18: the standard 32-bit PVH entry
};

struct KernelImage {
    const char* path;
    elf::ElfFile elf;
    EntryKind kind;
    uint64_t entry;       // virtual address (kLong64) or physical address (kPvh32)
    uint64_t load_end;    // highest physical end of any PT_LOAD segment
    // The kernel's GDT/IDT/TSS ("Kiln" note type 2), loaded at the 64-bit
    // entry when present.
    bool has_descriptors = false;
    abi::KilnDescriptorNote descriptors = {};
    // Note type 3: with it (and note 2) kiln-vmm builds the kernel's final
    // page tables (abi::kBootFlagKernelTables).
    bool has_layout = false;
    abi::KilnLayoutNote layout = {};
};

// Maps and parses the kernel file; exits with a message naming the problem
// when it cannot be read, is not an x86-64 ELF, or has no usable entry.
KernelImage open_kernel(const char* path);

// Copies the PT_LOAD segments into guest RAM. Each must lie in RAM above the
// low reserved area and not overlap another; exits with a message otherwise.
void load_kernel(const KernelImage& image, GuestMemory& mem);

}  // namespace kiln::vmm
