// Everything the monitor writes into the guest before the first instruction:
// boot page tables and GDT (lib/abi/boot.h "64-bit direct entry"), the PVH
// start info with memory map and module list, the command line, the initrds.
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

// The kernel's final page tables (lib/abi/boot.h, kBootFlagKernelTables),
// when its notes allow (note 2 and 3): writes them after the image and
// returns their root (for CR3) and physical end; false when the kernel
// lacks the notes and boots on the boot tables. `pvm` sets U/S=1 at every
// level. Exits when the image's segments share a page or the tables do not
// fit the kernel's early region.
struct KernelTables {
    uint64_t root = 0;
    uint64_t end = 0;
};
bool write_kernel_tables(GuestMemory& mem, const KernelImage& kernel, bool pvm,
                         KernelTables* out);

// An initrd opened before the VM exists, so a bad path fails early.
struct Initrd {
    const char* path = nullptr;
    int fd = -1;
    uint64_t size = 0;
    uint64_t gpa = 0;  // set by place_initrds
};
Initrd open_initrd(const char* path);

// Where the initrds go: page-aligned at the top of low RAM (which ends at
// low_end), the first highest and each next one below the one before, all
// above the kernel. Sets each gpa; exits when they do not fit.
void place_initrds(Initrd* initrds, int count, uint64_t low_end, uint64_t kernel_end);

// Reads a placed initrd into guest memory at its gpa and closes its file.
void load_initrd(Initrd& initrd, GuestMemory& mem);

// Builds "<user cmdline> virtio_mmio.device=4K@0x...:IRQ ..." into out
// (kCmdlineMax bytes); exits when too long.
void build_cmdline(const char* user, uint32_t virtio_devices, char* out);

// HvmStartInfo + memmap + modlist (one module per initrd, in order) at
// kStartInfoGpa, command line at kCmdlineGpa.
void write_start_info(GuestMemory& mem, const char* cmdline, const Initrd* initrds, int count);

}  // namespace kiln::vmm
