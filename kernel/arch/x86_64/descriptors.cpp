// GDT, TSS and IDT (Intel SDM vol. 3A, ch. 3 and 6). The selectors follow
// SYSCALL/SYSRET's layout: kernel code 0x10, data 0x18; user code32 0x23,
// data 0x2b, code64 0x33. On kvm-pvm, gates must name 0x33 with DPL 3
// (PVM.md, recipe step 2), and no segment register is reloaded after the
// native switch: the kernel then runs at hardware CPL3.
#include "arch/x86_64/arch.h"
#include "arch/x86_64/traps.h"

namespace kiln::arch {

// Outside the anonymous namespace: the tables below are named for boot.S.
struct [[gnu::packed]] Tss {
    uint32_t reserved0;
    uint64_t rsp[3];
    uint64_t reserved1;
    uint64_t ist[7];
    uint64_t reserved2;
    uint16_t reserved3;
    uint16_t iomap_base;
};
static_assert(sizeof(Tss) == 104);

struct [[gnu::packed]] TablePointer {
    uint16_t limit;
    uint64_t base;
};

struct Gate {
    uint64_t lo, hi;
};

namespace {

constexpr uint16_t kKernelCs = 0x10;
constexpr uint16_t kKernelDs = 0x18;
constexpr uint16_t kPvmGateCs = 0x33;
constexpr uint16_t kTssSelector = 0x38;
constexpr int kDoubleFaultIst = 1;
constexpr int kNmiIst = 2;
// kvm-pvm delivers events from the app on the app's own stack (measured:
// the frame lands below the user RSP), which the app may have pointed
// anywhere and whose red zone it owns. So on kvm-pvm every gate uses this
// IST trampoline, and entry.S moves the frame to the kernel stack at once.
constexpr int kPvmEntryIst = 3;

}  // namespace

// Named for the "Kiln" descriptor note (boot.S): kiln-vmm loads GDTR, IDTR
// and TR with them before the first instruction.
alignas(16) uint64_t gdt[9] asm("kiln_gdt") = {
    0,
    0x00cf9b000000ffff,  // 0x08 code32 (PVH boot)
    0x00af9b000000ffff,  // 0x10 kernel code64
    0x00cf93000000ffff,  // 0x18 kernel data
    0x00cffb000000ffff,  // 0x23 user code32
    0x00cff3000000ffff,  // 0x2b user data
    0x00affb000000ffff,  // 0x33 user code64
    0,                   // 0x38 TSS (two slots)
    0,
};
alignas(16) Tss tss asm("kiln_tss");
alignas(16) Gate idt[256] asm("kiln_idt");

namespace {

// Stacks for faults that may find the current stack unusable (a kernel
// stack overflow into its guard page must still print a report).
alignas(16) uint8_t double_fault_stack[8192];
alignas(16) uint8_t nmi_stack[4096];
alignas(16) uint8_t pvm_entry_stack[8192];  // also runs a stack-overflow report

}  // namespace

extern "C" char kiln_trap_stubs[];
extern "C" char kiln_boot_stack_top[];

extern "C" uint64_t kiln_kernel_stack_top;

void set_kernel_stack(uint64_t top) {
    tss.rsp[0] = top;
    kiln_kernel_stack_top = top;
}

void init_descriptors(bool loaded) {
    uint64_t tss_base = reinterpret_cast<uint64_t>(&tss);
    tss.iomap_base = sizeof(Tss);
    tss.rsp[0] = reinterpret_cast<uint64_t>(kiln_boot_stack_top);
    tss.ist[kDoubleFaultIst - 1] =
        reinterpret_cast<uint64_t>(double_fault_stack + sizeof(double_fault_stack));
    tss.ist[kNmiIst - 1] = reinterpret_cast<uint64_t>(nmi_stack + sizeof(nmi_stack));
    tss.ist[kPvmEntryIst - 1] = reinterpret_cast<uint64_t>(pvm_entry_stack + sizeof(pvm_entry_stack));
    gdt[7] = (sizeof(Tss) - 1) | ((tss_base & 0xffffff) << 16) | (0x89ull << 40) |
             (((tss_base >> 24) & 0xff) << 56);
    gdt[8] = tss_base >> 32;

    const bool para = pvm();
    const uint64_t cs = para ? kPvmGateCs : kKernelCs;
    for (int v = 0; v < 256; v++) {
        uint64_t handler = reinterpret_cast<uint64_t>(kiln_trap_stubs) + 16 * v;
        // Breakpoint and overflow may be raised from user mode with int3/into.
        int dpl = (para || v == 3 || v == 4) ? 3 : 0;
        int ist = v == 8 ? kDoubleFaultIst : v == 2 ? kNmiIst : para ? kPvmEntryIst : 0;
        idt[v].lo = (handler & 0xffff) | (cs << 16) | (uint64_t(ist) << 32) |
                    (uint64_t(0x8e | (dpl << 5)) << 40) | (((handler >> 16) & 0xffff) << 48);
        idt[v].hi = handler >> 32;
    }

    // The monitor pointed GDTR, IDTR and TR here already (boot.h, note type
    // 2), with the same selectors: the tables only had to be filled.
    if (loaded) return;
    TablePointer gdtp{sizeof(gdt) - 1, reinterpret_cast<uint64_t>(gdt)};
    TablePointer idtp{sizeof(idt) - 1, reinterpret_cast<uint64_t>(idt)};
    asm volatile("lgdt %0" ::"m"(gdtp));
    if (!para) {
        // Reload CS through a far return, then the data segments.
        asm volatile(
            "pushq %0\n"
            "leaq 1f(%%rip), %%rax\n"
            "pushq %%rax\n"
            "lretq\n"
            "1:\n"
            "movl %1, %%eax\n"
            "movl %%eax, %%ds\n"
            "movl %%eax, %%es\n"
            "movl %%eax, %%ss\n"
            "xorl %%eax, %%eax\n"
            "movl %%eax, %%fs\n"
            "movl %%eax, %%gs\n" ::"i"(uint64_t(kKernelCs)),
            "i"(uint32_t(kKernelDs))
            : "rax", "memory");
    }
    asm volatile("ltr %w0" ::"r"(kTssSelector));
    asm volatile("lidt %0" ::"m"(idtp));
}

}  // namespace kiln::arch
