// Trap dispatch and the crash report. Any exception in the kernel is fatal
// for now: it prints the vector, error code, RIP, CR2, the registers and a
// backtrace with symbol names from the embedded table (lib/kiln/ksyms.h),
// then ends the VM with abi::kStatusKernelPanic.
#include "arch/x86_64/traps.h"
#include "sched/thread.h"

#include "abi/boot.h"
#include "arch/x86_64/arch.h"
#include "arch/x86_64/cpu.h"
#include "kiln/format.h"
#include "kiln/elf_symbols.h"
#include "kiln/ksyms.h"
#include "fs/inode.h"
#include "mm/heap.h"
#include "klog.h"
#include "linux/signal_delivery.h"
#include "linux/signal_frame.h"
#include "linux/user.h"
#include "mm/vm.h"
#include "sched/process.h"

extern "C" char __text_start[], __text_end[];
extern "C" char kiln_pvm_halt_begin[], kiln_pvm_halt_end[];
extern "C" char kiln_boot_stack_guard[];

namespace kiln::arch {
namespace {

IrqHandler irq_handlers[256];

const char* const kExceptionNames[32] = {"divide error (#DE)",
                                         "debug (#DB)",
                                         "NMI",
                                         "breakpoint (#BP)",
                                         "overflow (#OF)",
                                         "bound range (#BR)",
                                         "invalid opcode (#UD)",
                                         "device not available (#NM)",
                                         "double fault (#DF)",
                                         "coprocessor overrun",
                                         "invalid TSS (#TS)",
                                         "segment not present (#NP)",
                                         "stack fault (#SS)",
                                         "general protection (#GP)",
                                         "page fault (#PF)",
                                         "reserved 15",
                                         "x87 FP error (#MF)",
                                         "alignment check (#AC)",
                                         "machine check (#MC)",
                                         "SIMD FP (#XM)",
                                         "virtualization (#VE)",
                                         "control protection (#CP)",
                                         "reserved 22",
                                         "reserved 23",
                                         "reserved 24",
                                         "reserved 25",
                                         "reserved 26",
                                         "reserved 27",
                                         "hypervisor injection (#HV)",
                                         "VMM communication (#VC)",
                                         "security (#SX)",
                                         "reserved 31"};

bool in_text(uint64_t addr) {
    return addr >= reinterpret_cast<uint64_t>(__text_start) &&
           addr < reinterpret_cast<uint64_t>(__text_end);
}

void print_location(const char* prefix, uint64_t addr) {
    const char* name = nullptr;
    uint64_t offset = 0;
    if (in_text(addr) && ksym_lookup(kernel_ksyms(), addr, &name, &offset)) {
        klog::error("%s0x%016lx <%s+0x%lx>", prefix, addr, name, offset);
    } else {
        klog::error("%s0x%016lx", prefix, addr);
    }
}

// Walks the frame-pointer chain (the kernel keeps frame pointers), trusting
// only frames that lie above the current one on a plausible stack.
void print_backtrace(uint64_t rbp) {
    klog::error("  backtrace:");
    for (int depth = 0; depth < 32 && rbp != 0 && (rbp & 7) == 0; depth++) {
        // SAFETY: rbp is 8-byte aligned and non-null; frames come from
        // kernel code compiled with frame pointers. A corrupt chain ends at
        // the first return address outside .text or after 32 frames.
        auto* frame = reinterpret_cast<const uint64_t*>(rbp);
        uint64_t next = frame[0];
        uint64_t ret = frame[1];
        if (!in_text(ret)) break;
        char prefix[16];
        format(prefix, sizeof(prefix), "    #%02d ", depth);
        print_location(prefix, ret - 1);  // the call instruction, not the one after
        if (next <= rbp) break;
        rbp = next;
    }
}

}  // namespace

void set_irq_handler(uint8_t vector, IrqHandler handler) {
    irq_handlers[vector] = handler;
}

[[noreturn]] void crash(const char* what, const TrapFrame* f) {
    irq_disable();
    klog::set_level(klog::Level::kError);
    klog::error("kiln: kernel panic: %s", what);
    if (f) {
        if (f->vector < 32) {
            klog::error("  vector %lu, error code 0x%lx", f->vector, f->error);
        }
        print_location("  rip ", f->rip);
        const uint64_t guard = reinterpret_cast<uint64_t>(kiln_boot_stack_guard);
        if ((f->vector == 8 || f->vector == 14) && f->rsp >= guard && f->rsp < guard + 2 * 4096) {
            klog::error(
                "  kernel stack overflow: rsp 0x%lx is at the guard page below the boot stack",
                f->rsp);
        }
        if (f->vector == 14) {
            uint64_t cr2 = fault_address();
            klog::error("  cr2 0x%016lx (%s %s, %s)", cr2,
                        (f->error & 2)    ? "write to"
                        : (f->error & 16) ? "fetch from"
                                          : "read from",
                        (f->error & 1) ? "protected page" : "unmapped page",
                        cr2 < 4096 ? "null pointer" : "bad address");
        }
        klog::error("  rax %016lx rbx %016lx rcx %016lx rdx %016lx", f->rax, f->rbx, f->rcx,
                    f->rdx);
        klog::error("  rsi %016lx rdi %016lx rbp %016lx rsp %016lx", f->rsi, f->rdi, f->rbp,
                    f->rsp);
        klog::error("  r8  %016lx r9  %016lx r10 %016lx r11 %016lx", f->r8, f->r9, f->r10, f->r11);
        klog::error("  r12 %016lx r13 %016lx r14 %016lx r15 %016lx", f->r12, f->r13, f->r14,
                    f->r15);
        klog::error("  rflags %016lx cs %04lx ss %04lx", f->rflags, f->cs, f->ss);
        print_backtrace(f->rbp);
    } else {
        print_backtrace(cpu::read_rbp());
    }
    klog::error("kiln: exit status %d", abi::kStatusKernelPanic);
    shutdown(abi::kStatusKernelPanic);
}

// Linux's signal for each exception taken in user mode (arch/x86/kernel/traps.c's mapping).
int user_signal(uint64_t vector) {
    switch (vector) {
        case 0: case 16: case 19: return 8;   // SIGFPE
        case 1: case 3: return 5;             // SIGTRAP
        case 6: return 4;                     // SIGILL
        case 17: return 7;                    // SIGBUS
        default: return 11;                   // SIGSEGV
    }
}

// "<function+0x12>" for a code address of the application, when the file
// mapped there has a symbol table; "" otherwise. Reads the whole file: this
// runs only on the way to a crash report.
void describe_user_address(uint64_t addr, char* out, size_t cap) {
    out[0] = 0;
    mm::UserAddressSpace* vm = sched::current().vm;
    uint64_t off = 0;
    if (vm == nullptr) return;
    auto file = vm->file_at(addr, &off);
    if (!file.ok()) return;
    const uint64_t size = (*file)->size();
    constexpr uint64_t kMaxFile = 256ull << 20;
    auto* bytes = size <= kMaxFile ? static_cast<uint8_t*>(mm::heap_alloc(size)) : nullptr;
    if (bytes != nullptr) {
        auto n = (*file)->read_at(0, bytes, size);
        if (n.ok() && *n == size) {
            auto sym = elf_symbol_at_file_offset(Bytes(bytes, size), off);
            if (sym.ok()) {
                format(out, cap, " <%.*s+0x%lx>", int(sym->name.size()), sym->name.data(), sym->offset);
            }
        }
        mm::heap_free(bytes);
    }
    (*file)->release();
}

// A fatal fault in the application: the report a developer needs (signal,
// address, instruction bytes, registers), then exit status 128 + signal.
// `sig` is the fault's own signal, or SIGSEGV when its handler could not
// be entered (`why` says so then).
[[noreturn]] void user_crash(const TrapFrame* f, uint64_t fault_addr, int sig,
                             const char* why = "") {
    const auto& proc = sched::current();
    klog::set_level(klog::Level::kError);
    char where[160];
    describe_user_address(f->rip, where, sizeof(where));
    klog::error("kiln: %s killed by %s: %s at rip 0x%lx%s%s",
                proc.exe_path[0] ? proc.exe_path : "the program", sched::signal_name(sig),
                kExceptionNames[f->vector], f->rip, where, why);
    if (f->vector == 14) {
        klog::error("  fault address 0x%016lx (%s %s)", fault_addr,
                    (f->error & 16) ? "instruction fetch from" : (f->error & 2) ? "write to" : "read from",
                    (f->error & 1) ? "a page that forbids it" : "an unmapped address");
    }
    uint8_t code[16];
    if (sys::copy_from_user(code, f->rip, sizeof(code)).ok()) {
        char hex[16 * 3 + 1];
        for (int i = 0; i < 16; i++) format(hex + 3 * i, 4, "%02x ", code[i]);
        klog::error("  instruction bytes at rip: %s", hex);
    }
    klog::error("  rax %016lx rbx %016lx rcx %016lx rdx %016lx", f->rax, f->rbx, f->rcx, f->rdx);
    klog::error("  rsi %016lx rdi %016lx rbp %016lx rsp %016lx", f->rsi, f->rdi, f->rbp, f->rsp);
    klog::error("  r8  %016lx r9  %016lx r10 %016lx r11 %016lx", f->r8, f->r9, f->r10, f->r11);
    klog::error("  r12 %016lx r13 %016lx r14 %016lx r15 %016lx", f->r12, f->r13, f->r14, f->r15);
    klog::error("kiln: exit status %d", 128 + sig);
    sched::exit_process(128 + sig);
}

// si_code and si_addr for a fault, as Linux's trap handlers send them.
void fault_siginfo(const TrapFrame* f, uint64_t fault_addr, int32_t* code, uint64_t* addr) {
    *addr = 0;
    switch (f->vector) {
        case 14:
            *code = (f->error & 1) ? sys::kSegvAccerr : sys::kSegvMaperr;
            *addr = fault_addr;
            return;
        case 0:
            *code = sys::kFpeIntdiv;
            *addr = f->rip;
            return;
        case 6:
            *code = sys::kIllIllopn;
            *addr = f->rip;
            return;
        case 17:
            *code = sys::kBusAdraln;
            return;
        default:
            *code = sys::kSiKernel;
            return;
    }
}

// A fault in the application: its handler runs when one is installed and
// can be entered; otherwise the crash report ends the process.
void user_fault(TrapFrame* f, uint64_t fault_addr) {
    const int sig = user_signal(f->vector);
    int32_t code;
    uint64_t si_addr;
    fault_siginfo(f, fault_addr, &code, &si_addr);
    switch (sys::deliver_fault(*f, sig, code, si_addr, f->vector == 14 ? fault_addr : 0)) {
        case sys::FaultOutcome::kHandlerEntered:
            return;
        case sys::FaultOutcome::kNoHandler:
            user_crash(f, fault_addr, sig);
        case sys::FaultOutcome::kFrameFailed:
            user_crash(f, fault_addr, 11, " (its handler's signal frame could not be written)");
    }
}

mm::Access fault_access(uint64_t error) {
    if (error & 16) return mm::Access::kExec;
    return (error & 2) ? mm::Access::kWrite : mm::Access::kRead;
}

extern "C" void kiln_trap(TrapFrame* f) {
    const bool from_user = (f->cs & 3) == 3;
    if (f->vector == 14) {
        // Demand paging: the app's own touches, and kernel copies to or from
        // app memory (linux/user.h makes pages present first; this is the net).
        const uint64_t addr = fault_address();
        mm::UserAddressSpace* vm = sched::current().vm;
        if (addr < sys::kUserTop && vm != nullptr && vm->handle_fault(addr, fault_access(f->error)).ok()) {
            if (from_user) sys::return_to_user(*f);
            return;
        }
        if (from_user) {
            user_fault(f, addr);
            sys::return_to_user(*f);
            return;
        }
    }
    if (f->vector < 32) {
        if (from_user) {
            user_fault(f, 0);
            sys::return_to_user(*f);
            return;
        }
        crash(kExceptionNames[f->vector], f);
    }
    // An event that arrived inside kiln_pvm_halt's unmask-to-halt window:
    // skip the halt so the caller re-checks its condition (no lost wake-up).
    if (f->rip >= reinterpret_cast<uint64_t>(kiln_pvm_halt_begin) &&
        f->rip < reinterpret_cast<uint64_t>(kiln_pvm_halt_end)) {
        f->rip = reinterpret_cast<uint64_t>(kiln_pvm_halt_end);
    }
    if (IrqHandler h = irq_handlers[f->vector]) {
        h(*f);
    } else {
        klog::warn("kiln: unexpected interrupt vector %lu", f->vector);
    }
    if (from_user) {
        sched::preempt_point();
        sys::return_to_user(*f);
    }
}

}  // namespace kiln::arch
