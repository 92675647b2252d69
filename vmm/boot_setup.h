// Everything the monitor writes into the guest before the first instruction:
// boot page tables and GDT (lib/abi/boot.h "64-bit direct entry"), the PVH
// start info with memory map and module list, the command line, the initrd.
#pragma once

#include <stdint.h>

#include "guest_memory.h"
#include "kernel_image.h"

namespace kiln::vmm {

// GDT selectors (lib/abi/boot.h); 0x08 is a flat 32-bit code segment for the
// PVH entry.
inline constexpr uint64_t kBootGdtGpa = 0x3000;
inline constexpr uint16_t kSelCode32 = 0x08;
inline constexpr uint16_t kSelCode64 = 0x10;
inline constexpr uint16_t kSelData = 0x18;
inline constexpr uint16_t kGdtEntries = 7;

// The boot PML4 (and its copy at +0x1000), PDPTs and PDs at kBootPml4Gpa:
// [0, 4 GiB) identity and [0, 1 GiB) at kKernelVirtBase, 2 MiB pages, U/S=1.
void write_page_tables(GuestMemory& mem);
void write_gdt(GuestMemory& mem);

// An initrd opened before the VM exists, so a bad path fails early.
struct Initrd {
    const char* path = nullptr;
    int fd = -1;
    uint64_t size = 0;
};
Initrd open_initrd(const char* path);

// Where the initrd goes: page-aligned at the top of low RAM (which ends at
// low_end), above the kernel. Exits when it does not fit.
uint64_t place_initrd(const Initrd& initrd, uint64_t low_end, uint64_t kernel_end);

// Reads the initrd to the top of low RAM (page-aligned), above the kernel.
// Returns its guest-physical address; exits when it does not fit.
uint64_t load_initrd(const Initrd& initrd, GuestMemory& mem, uint64_t kernel_end);

// Builds "<user cmdline> virtio_mmio.device=4K@0x...:IRQ ..." into out
// (kCmdlineMax bytes); exits when too long.
void build_cmdline(const char* user, uint32_t virtio_devices, char* out);

// HvmStartInfo + memmap + modlist at kStartInfoGpa, command line at kCmdlineGpa.
void write_start_info(GuestMemory& mem, const char* cmdline, uint64_t initrd_gpa,
                      uint64_t initrd_size);

}  // namespace kiln::vmm
