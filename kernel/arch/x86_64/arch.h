// The arch interface the rest of the kernel uses. Two implementations sit
// behind it: kvm-pvm's paravirtual one (vIF byte, hypercalls, native iretq)
// and the ordinary x86 one (cli/sti, mov to CR3, invlpg, hlt). Which one is
// decided once at boot; see PVM.md for why the difference matters (~5,000x).
#pragma once

#include <stdint.h>

namespace kiln::arch {

// Records, once at boot, whether boot.S switched to kvm-pvm's native mode.
void set_pvm(bool native_pvm);
// True once the kernel runs natively under kvm-pvm.
bool pvm();

// Interrupt masking. On kvm-pvm this is a byte store (cli/sti trap there).
void irq_disable();
void irq_enable();
bool irq_enabled();

class IrqGuard {
public:
    IrqGuard() : was_enabled_(irq_enabled()) { irq_disable(); }
    ~IrqGuard() {
        if (was_enabled_) irq_enable();
    }
    IrqGuard(const IrqGuard&) = delete;
    IrqGuard& operator=(const IrqGuard&) = delete;

private:
    bool was_enabled_;
};

// Enable interrupts and halt until one has been handled; returns with
// interrupts disabled. No lost wake-up: an interrupt pending at the call
// ends the halt at once.
void wait_for_interrupt();
// Times the vCPU halted for an interrupt since boot (kiln.stats).
uint64_t halt_count();

// MSR write (a hypercall on kvm-pvm, ~6 us; wrmsr elsewhere).
void wrmsr(uint32_t msr, uint64_t value);

// Page-table root and TLB.
void load_page_tables(uint64_t pml4_phys);
void flush_tlb_page(uint64_t va);
void flush_tlb_all();

// Turns on SMEP, SMAP and UMIP where the CPU has them, so the kernel can
// neither run nor (outside marked accessors) touch user pages. Not on
// kvm-pvm, whose kernel runs at hardware CPL3 on U/S=1 pages (PVM.md).
void enable_supervisor_protection();

// Lets the application use SSE and AVX: CR4.OSXSAVE and XCR0 (x87, SSE,
// AVX, AVX-512 as the CPU offers). kiln-vmm sets them before entry; other
// loaders may not. The kernel itself never touches vector registers
// (-mgeneral-regs-only), so the registers hold the running thread's state;
// the scheduler saves and restores it only on a switch (sched/thread.cpp).
void enable_user_fpu();
// True when XCR0 enables AVX state.
bool avx_enabled();

// Brackets the kernel's own accesses to user pages (linux/user.cpp): with
// SMAP on they set and clear EFLAGS.AC (stac/clac); otherwise, and on
// kvm-pvm, they do nothing.
void user_access_begin();
void user_access_end();

// The address of the last page fault (vif.cr2 on kvm-pvm, CR2 elsewhere).
uint64_t fault_address();

// The application side (user.cpp, user_entry.S): SYSCALL set-up, the first
// entry to ring 3 (every register zero, interrupts on), and the FS base that
// arch_prctl(ARCH_SET_FS) sets for thread-local storage.
void init_user_mode();
[[noreturn]] void enter_user(uint64_t rip, uint64_t rsp);
void set_fs_base(uint64_t base);
uint64_t fs_base();

// Ends the VM with an exit status (kiln-vmm: the status; QEMU isa-debug-exit:
// (status << 1) | 1; otherwise a triple fault so -no-reboot stops).
[[noreturn]] void shutdown(int status);

// Halt forever with interrupts off.
[[noreturn]] void halt_forever();

}  // namespace kiln::arch
