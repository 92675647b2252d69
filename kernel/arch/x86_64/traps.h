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
void init_descriptors();

using IrqHandler = void (*)(TrapFrame&);
// Vectors 32..255. The handler runs with interrupts masked.
void set_irq_handler(uint8_t vector, IrqHandler handler);

// Prints a crash report for the frame (or the current stack when null) and
// ends the VM with abi::kStatusKernelPanic.
[[noreturn]] void crash(const char* what, const TrapFrame* frame);

}  // namespace kiln::arch
