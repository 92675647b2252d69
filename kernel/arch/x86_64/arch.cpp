// The arch interface (arch.h) in its two flavours: kvm-pvm's paravirtual
// operations (PVM.md, "The paravirtual interface") and ordinary x86.
#include "arch/x86_64/arch.h"

#include "abi/boot.h"
#include "arch/x86_64/cpu.h"
#include "arch/x86_64/pvm.h"

namespace kiln::arch {

// SAFETY: read by entry.S as a byte; written once at boot before interrupts.
extern "C" uint8_t kiln_pvm_active;
uint8_t kiln_pvm_active = 0;

void set_pvm(bool native_pvm) {
    kiln_pvm_active = native_pvm ? 1 : 0;
}

bool pvm() {
    return kiln_pvm_active != 0;
}

void irq_disable() {
    if (pvm()) {
        kiln_vif.if_ = 0;
        cpu::barrier();
    } else {
        asm volatile("cli" ::: "memory");
    }
}

void irq_enable() {
    if (pvm()) {
        cpu::barrier();
        kiln_vif.if_ = 1;
        cpu::barrier();
        if (kiln_vif.pending) pvm_doorbell();
    } else {
        asm volatile("sti" ::: "memory");
    }
}

bool irq_enabled() {
    if (pvm()) return kiln_vif.if_ != 0;
    uint64_t flags;
    asm volatile("pushfq; popq %0" : "=r"(flags));
    return flags & 0x200;
}

extern "C" void kiln_pvm_halt();  // entry.S: unmask + HALT hypercall, restartable

namespace {
uint64_t halts = 0;
}

uint64_t halt_count() {
    return halts;
}

void wait_for_interrupt() {
    halts++;
    if (pvm()) {
        kiln_pvm_halt();
        irq_disable();
    } else {
        asm volatile("sti; hlt; cli" ::: "memory");
    }
}

void wrmsr(uint32_t msr, uint64_t value) {
    if (pvm()) {
        pvm_hypercall(kPvmHcWrmsr, msr, value);
    } else {
        cpu::wrmsr_raw(msr, value);
    }
}

void load_page_tables(uint64_t pml4_phys) {
    if (pvm()) {
        pvm_hypercall(kPvmHcSetCr3, pml4_phys);
    } else {
        asm volatile("movq %0, %%cr3" ::"r"(pml4_phys) : "memory");
    }
}

void flush_tlb_page(uint64_t va) {
    if (pvm()) {
        pvm_hypercall(kPvmHcFlushTlbOne, va);
    } else {
        asm volatile("invlpg (%0)" ::"r"(va) : "memory");
    }
}

void flush_tlb_all() {
    if (pvm()) {
        pvm_hypercall(kPvmHcFlushTlb);
    } else {
        uint64_t cr3;
        asm volatile("movq %%cr3, %0; movq %0, %%cr3" : "=r"(cr3)::"memory");
    }
}

namespace {
bool smap_enabled = false;  // set once at boot by enable_supervisor_protection
}  // namespace

void user_access_begin() {
    if (smap_enabled) asm volatile("stac" ::: "memory");
}

void user_access_end() {
    if (smap_enabled) asm volatile("clac" ::: "memory");
}

void enable_supervisor_protection() {
    if (pvm()) return;
    constexpr uint64_t kCr4Umip = 1ull << 11, kCr4Smep = 1ull << 20, kCr4Smap = 1ull << 21;
    if (cpu::cpuid(0).eax < 7) return;
    const auto leaf7 = cpu::cpuid(7);
    uint64_t cr4;
    asm volatile("movq %%cr4, %0" : "=r"(cr4));
    if (leaf7.ebx & (1u << 7)) cr4 |= kCr4Smep;
    if (leaf7.ebx & (1u << 20)) {
        cr4 |= kCr4Smap;
        smap_enabled = true;
    }
    if (leaf7.ecx & (1u << 2)) cr4 |= kCr4Umip;
    asm volatile("movq %0, %%cr4" ::"r"(cr4) : "memory");
}

namespace {
uint64_t read_cr4() {
    uint64_t cr4;
    asm volatile("movq %%cr4, %0" : "=r"(cr4));
    return cr4;
}
uint64_t xgetbv0() {
    uint32_t lo, hi;
    asm volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    return (uint64_t(hi) << 32) | lo;
}
}  // namespace

void enable_user_fpu() {
    constexpr uint64_t kCr4Osxsave = 1ull << 18;
    // On kvm-pvm CR4 writes, xsetbv and even this CPUID trap; kiln-vmm sets
    // both before entry, so there is nothing to do (or to ask).
    if (pvm()) return;
    const auto leaf1 = cpu::cpuid(1);
    if (!(leaf1.ecx & (1u << 26))) return;  // no XSAVE
    if (leaf1.ecx & (1u << 27)) return;     // OSXSAVE: the monitor did it
    const auto leafd = cpu::cpuid(0xd, 0);
    const uint64_t supported = leafd.eax | (uint64_t(leafd.edx) << 32);
    const uint64_t xcr0 = (supported & (0x1 | 0x2 | 0x4 | 0x20 | 0x40 | 0x80)) | 0x1;
    asm volatile("movq %0, %%cr4" ::"r"(read_cr4() | kCr4Osxsave) : "memory");
    asm volatile("xsetbv" ::"a"(uint32_t(xcr0)), "d"(uint32_t(xcr0 >> 32)), "c"(0));
}

bool avx_enabled() {
    if (!(cpu::cpuid(1).ecx & (1u << 27))) return false;
    return (xgetbv0() & 0x6) == 0x6;
}

uint64_t fault_address() {
    if (pvm()) return kiln_vif.cr2;
    uint64_t cr2;
    asm volatile("movq %%cr2, %0" : "=r"(cr2));
    return cr2;
}

[[noreturn]] void halt_forever() {
    irq_disable();
    for (;;) {
        if (pvm()) {
            pvm_hypercall(kPvmHcHalt);
        } else {
            asm volatile("hlt");
        }
    }
}

[[noreturn]] void shutdown(int status) {
    cpu::outl(abi::kPortExit, static_cast<uint32_t>(status));
    // No exit device (a PVH monitor other than kiln-vmm or QEMU with
    // isa-debug-exit): reset by triple fault, which -no-reboot turns into an exit.
    struct [[gnu::packed]] {
        uint16_t limit;
        uint64_t base;
    } null_idt = {0, 0};
    asm volatile("lidt %0; int3" ::"m"(null_idt));
    halt_forever();
}

}  // namespace kiln::arch
