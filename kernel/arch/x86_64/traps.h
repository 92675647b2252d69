// Traps and interrupts: the saved frame (layout fixed by entry.S), the
// descriptor tables, and handler registration for interrupt vectors.
#pragma once

#include <stdint.h>

namespace kiln::arch {

struct TrapFrame {
    uint64_t r15, r14, r13, r12, r11, r10, r9, r8;
    uint64_t rbp, rdi, rsi, rdx, rcx, rbx, rax;
    uint64_t vector, error;
    uint64_t rip, cs, rflags, rsp, ss;  // pushed by the CPU
};

// Loads the GDT, TSS and IDT. Called once, early.
// Fills the GDT, TSS and IDT, and loads them unless `loaded` (the monitor
// did: abi::kBootFlagDescriptors).
void init_descriptors(bool loaded);

// The running thread's kernel stack: where syscalls, and events from the
// app, land (TSS.rsp0 and the kvm-pvm entry paths' kiln_kernel_stack_top).
void set_kernel_stack(uint64_t top);

// Saves the callee-saved registers on the current stack, stores its RSP in
// *save_rsp, and resumes the stack new_rsp (switch.S). Interrupts masked.
extern "C" void kiln_context_switch(uint64_t* save_rsp, uint64_t new_rsp);
// Where a new thread's first switch returns to: the TrapFrame just above
// goes back to the app through the full-frame path.
extern "C" char kiln_thread_start[];

using IrqHandler = void (*)(TrapFrame&);
// Vectors 32..255. The handler runs with interrupts masked.
void set_irq_handler(uint8_t vector, IrqHandler handler);

// Prints a crash report for the frame (or the current stack when null) and
// ends the VM with abi::kStatusKernelPanic.
[[noreturn]] void crash(const char* what, const TrapFrame* frame);

}  // namespace kiln::arch
