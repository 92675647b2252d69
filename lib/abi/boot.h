// kiln boot ABI, version 1: everything kiln-vmm and the kernel agree on.
//
// This header is the whole VMM<->kernel boundary: the ELF notes the monitor
// reads, the machine state at the two entry points, the start-info structure
// (Xen's PVH "hvm_start_info", docs: xen/include/public/arch-x86/hvm/start_info.h),
// the guest-physical layout kiln-vmm uses, and the I/O ports. Fixed-width types
// only; fields are "in" (monitor -> kernel) unless marked otherwise.
#pragma once

#include <stdint.h>

namespace kiln::abi {

inline constexpr uint32_t kBootAbiVersion = 1;

// ---- ELF notes in the kernel image -------------------------------------------
// Xen note: name "Xen\0", type 18 (XEN_ELFNOTE_PHYS32_ENTRY), desc = u32
// physical address of the 32-bit PVH entry. QEMU, Firecracker and
// cloud-hypervisor look for this note.
inline constexpr uint32_t kXenNotePhys32Entry = 18;
// kiln note: name "Kiln\0", type 1, desc = u64 virtual address of the 64-bit
// entry that kiln-vmm enters directly (state below). Absent: use PVH.
inline constexpr uint32_t kKilnNoteEntry64 = 1;
// kiln note type 2: the kernel's own descriptor tables (virtual addresses
// in the kernel image). kiln-vmm loads GDTR, IDTR and TR with them at the
// 64-bit entry and says so with kBootFlagDescriptors: on kvm-pvm each of
// lgdt, lidt and ltr traps (~7 us), a fifth of the kernel's boot.
inline constexpr uint32_t kKilnNoteDescriptors = 2;
struct KilnDescriptorNote {
    uint64_t gdt;  // GDTR base; the GDT's layout is the boot GDT's (below)
    uint64_t idt;  // IDTR base
    uint64_t tss;  // TR base: a 64-bit TSS, selector kKilnTssSelector
    uint16_t gdt_limit, idt_limit, tss_limit, reserved;
};
static_assert(sizeof(KilnDescriptorNote) == 32);
inline constexpr uint16_t kKilnTssSelector = 0x38;
// kiln note type 3: what kiln-vmm needs to build the kernel's final page
// tables (kBootFlagKernelTables) — the end of the image and the page below
// the boot stack that stays unmapped. Used only together with note 2 (the
// boot GDT's identity mapping is then gone).
inline constexpr uint32_t kKilnNoteLayout = 3;
struct KilnLayoutNote {
    uint64_t kernel_end;        // virtual, page aligned: the first byte after the image
    uint64_t boot_stack_guard;  // virtual address of the guard page
};
static_assert(sizeof(KilnLayoutNote) == 16);

// ---- 64-bit direct entry (kiln-vmm) ------------------------------------------
// Long mode, CPL0, interrupts masked (RFLAGS = 0x2).
//   CR0 = PE|MP|ET|NE|WP|AM|PG, CR4 = PAE|OSFXSR|OSXMMEXCPT (+OSXSAVE with XCR0
//   = x87|SSE|AVX|AVX-512 as KVM supports, when the CPU has XSAVE),
//   EFER = SCE|LME|LMA|NXE
//   CR3 = boot PML4 at an 8 KiB aligned address; an identical PML4 sits at
//         CR3+0x1000 (kvm-pvm runs user mode on CR3|0x1000). Every entry has
//         U/S=1 at every level (kvm-pvm runs "supervisor" code at CPL3).
//   The boot tables map [0, 4 GiB) identity and [0, 1 GiB) again at
//   kKernelVirtBase, with 2 MiB pages, writable, executable.
//   GDT: 0x08 code32 (flat, for the PVH entry), 0x10 kernel code64,
//        0x18 kernel data, 0x23 user code32 (unused),
//        0x2b user data, 0x33 user code64 (the selector kvm-pvm needs in IDT
//        gates). The kernel loads its own GDT/IDT/TSS right after the switch,
//        unless kBootFlagDescriptors says the monitor loaded them (note
//        type 2): then GDTR/IDTR/TR already point at the kernel's tables,
//        which the kernel fills before anything can raise an event.
//   RSI = guest-physical address of the HvmStartInfo.
//   RDI = kBootFlag* bits.
//   RSP = 0: the kernel uses its own stack.
inline constexpr uint64_t kBootFlagPvm =
    1u << 0;  // the monitor saw kvm-pvm: switch to native mode now
inline constexpr uint64_t kBootFlagConsolePort = 1u << 1;  // kPortConsole is there (see below)
inline constexpr uint64_t kBootFlagHostSignals = 1u << 2;  // kPortHostSignals is there (see below)
inline constexpr uint64_t kBootFlagDescriptors = 1u << 3;  // GDTR/IDTR/TR hold note type 2's tables
// CR3 holds the kernel's final page tables instead of the boot tables (notes
// 2 and 3 present), so the kernel neither builds them nor switches CR3 —
// on kvm-pvm a CR3 switch is a hypercall, and every page touched before it
// faults again under the new root. The tables:
//   - the PML4 pair at the first 8 KiB boundary at or after the image's end
//     (note 3), the other table pages after it, up to RDX (physical end);
//   - each PT_LOAD segment at its virtual address, writable only if PF_W,
//     NX unless PF_X, except the boot stack's guard page;
//   - all guest RAM, and the reserved low 1 MiB, at kDirectMapBase + pa (the
//     kernel's direct map: 2 MiB pages where aligned and clear of the image,
//     4 KiB otherwise; the image's own pages are not there); nothing else;
//   - on kvm-pvm U/S=1 at every level and an empty twin PML4 (no lower-half
//     entries); elsewhere U/S=0;
//   - accessed set in every entry, dirty in writable leaves.
inline constexpr uint64_t kBootFlagKernelTables = 1u << 4;

inline constexpr uint64_t kKernelVirtBase = 0xffffffff80000000ull;  // maps physical 0
inline constexpr uint64_t kKernelPhysLoad = 0x100000;               // 1 MiB

// ---- PVH start info ("hvm_start_info", version 1) ----------------------------
// At the 32-bit PVH entry EBX holds its physical address; at the 64-bit entry RSI.
inline constexpr uint32_t kHvmStartMagic = 0x336ec578;

struct HvmStartInfo {
    uint32_t magic;          // kHvmStartMagic
    uint32_t version;        // 1: memmap fields present
    uint32_t flags;          // SIF_* (unused by kiln)
    uint32_t nr_modules;     // entries at modlist_paddr; module 0 is the initrd
    uint64_t modlist_paddr;  // HvmModlistEntry[nr_modules]
    uint64_t cmdline_paddr;  // NUL-terminated kernel command line, 0 if none
    uint64_t rsdp_paddr;     // ACPI RSDP, 0 if none
    uint64_t memmap_paddr;   // HvmMemmapEntry[memmap_entries]
    uint32_t memmap_entries;
    uint32_t reserved;
};
static_assert(sizeof(HvmStartInfo) == 56);

struct HvmModlistEntry {
    uint64_t paddr;
    uint64_t size;
    uint64_t cmdline_paddr;
    uint64_t reserved;
};
static_assert(sizeof(HvmModlistEntry) == 32);

struct HvmMemmapEntry {
    uint64_t addr;
    uint64_t size;
    uint32_t type;  // kMemRam, kMemReserved, ... (E820 numbering)
    uint32_t reserved;
};
static_assert(sizeof(HvmMemmapEntry) == 24);

inline constexpr uint32_t kMemRam = 1;
inline constexpr uint32_t kMemReserved = 2;

// ---- kiln-vmm guest-physical layout ------------------------------------------
// Below 1 MiB, all reported as reserved to the kernel.
inline constexpr uint64_t kStartInfoGpa = 0x1000;  // HvmStartInfo, then memmap, then modlist
inline constexpr uint64_t kCmdlineGpa = 0x2000;    // up to kCmdlineMax bytes incl. NUL
inline constexpr uint64_t kCmdlineMax = 4096;
inline constexpr uint64_t kBootPml4Gpa = 0x8000;  // PML4, its copy at +0x1000, then PDPTs and PDs
inline constexpr uint64_t kLowReservedEnd = 0x100000;
// RAM is [0, mem) up to kMmioHoleStart and continues at 4 GiB above that.
inline constexpr uint64_t kMmioHoleStart = 0xc0000000;
inline constexpr uint64_t kMmioHoleEnd = 0x100000000ull;
// virtio-mmio devices: slot i at kVirtioMmioBase + i*kVirtioMmioStride,
// IRQ kVirtioIrqBase + i, announced on the command line as
// "virtio_mmio.device=4K@0xADDR:IRQ" (Linux's syntax).
// Slot 0 is virtio-console; slot 1, only when the VM has a network, is
// virtio-net (so a kernel that sees one device knows it has no NIC
// without reading a register).
inline constexpr uint64_t kVirtioMmioBase = 0xd0000000;
inline constexpr uint64_t kVirtioMmioStride = 0x1000;
inline constexpr uint32_t kVirtioIrqBase = 5;

// ---- interrupts (kiln-vmm) -----------------------------------------------------
// KVM emulates the local APIC (x2APIC, TSC-deadline timer); the I/O APIC at
// kIoapicGpa is the monitor's and turns device pins into MSIs as the guest
// programs them; there is no PIC (its ports read 0xff). KVM's full in-kernel
// irqchip is avoided because tearing it down costs ~14 ms per VM on kvm-pvm.
inline constexpr uint64_t kIoapicGpa = 0xfec00000;

// ---- I/O ports ---------------------------------------------------------------
inline constexpr uint16_t kPortCom1 = 0x3f8;  // 16550 UART: kernel log (quiet by default)
// Exit port: a 32-bit OUT of value V ends the VM. kiln-vmm exits with status
// V & 0xff. QEMU's isa-debug-exit at the same port exits with (V << 1) | 1.
inline constexpr uint16_t kPortExit = 0xf4;

// Console port (kiln-vmm only; announced by kBootFlagConsolePort): a 32-bit
// OUT of the guest-physical address (below 4 GiB, 8-byte aligned) of a
// ConsoleIo. The monitor carries it out before the guest resumes and stores
// the outcome in `result`: one exit per write and no set-up, where a
// virtio-console costs ~20 register exits to start (each ~30 us on
// kvm-pvm). Solo5's hvt console works the same way. The kernel still drives
// virtio-console on other monitors.
inline constexpr uint16_t kPortConsole = 0x4b0;

inline constexpr uint32_t kConsoleStdin = 0;   // read: up to len bytes from stdin; 0 at EOF
inline constexpr uint32_t kConsoleStdout = 1;  // write
inline constexpr uint32_t kConsoleStderr = 2;  // write

struct ConsoleIo {
    uint32_t stream;  // in: kConsoleStdin, kConsoleStdout or kConsoleStderr
    uint32_t len;     // in: bytes at buf
    uint64_t buf;     // in: guest-physical address of the bytes
    int64_t result;   // out: bytes moved, or a negative Linux errno (-EFAULT, -EINVAL, -EIO)
};
static_assert(sizeof(ConsoleIo) == 24);

// Host signals (kiln-vmm only; announced by kBootFlagHostSignals): SIGINT,
// SIGTERM, SIGQUIT, SIGHUP, SIGUSR1 and SIGUSR2 sent to kiln-vmm (Ctrl-C)
// are the program's. The kernel opts in by reading kPortHostSignals once;
// after that the monitor raises MSI vector kHostSignalVector whenever a
// signal arrives, and a 32-bit IN from the port returns and clears the
// pending set (bit n-1 for signal n). A guest that never opted in is ended
// by the signal as a process would be (status 128 + n).
inline constexpr uint16_t kPortHostSignals = 0x4b4;
inline constexpr uint8_t kHostSignalVector = 0x48;

// ---- exit statuses -----------------------------------------------------------
inline constexpr int kStatusKernelPanic = 113;  // kernel fault or failed assertion (report printed)
inline constexpr int kStatusGuestCrashed = 114;  // triple fault / shutdown without an exit status
inline constexpr int kStatusMonitorError = 125;  // kiln-vmm could not start the guest (bad input)

}  // namespace kiln::abi
