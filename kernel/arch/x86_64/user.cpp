// Running the application: the SYSCALL MSRs, the first entry to ring 3,
// the syscall trampoline into the dispatcher, and the FS base for TLS.
#include "arch/x86_64/arch.h"
#include "arch/x86_64/cpu.h"
#include "arch/x86_64/traps.h"
#include "linux/signal_delivery.h"
#include "linux/syscall.h"
#include "sched/thread.h"

extern "C" char kiln_syscall_entry[];
extern "C" [[noreturn]] void kiln_enter_user(uint64_t rip, uint64_t rsp);

namespace kiln::arch {
namespace {

constexpr uint32_t kMsrStar = 0xc0000081;
constexpr uint32_t kMsrLstar = 0xc0000082;
constexpr uint32_t kMsrFmask = 0xc0000084;
constexpr uint32_t kMsrFsBase = 0xc0000100;
// SYSCALL loads CS 0x10/SS 0x18; SYSRET CS 0x23+16 = 0x33, SS 0x23+8 = 0x2b.
constexpr uint64_t kStar = (0x23ull << 48) | (0x10ull << 32);
// Cleared on entry: TF, IF, DF, IOPL, NT, AC.
constexpr uint64_t kFmask = 0x47700;

uint64_t current_fs_base = 0;

}  // namespace

void init_user_mode() {
    wrmsr(kMsrStar, kStar);
    wrmsr(kMsrLstar, reinterpret_cast<uint64_t>(kiln_syscall_entry));
    wrmsr(kMsrFmask, kFmask);
}

[[noreturn]] void enter_user(uint64_t rip, uint64_t rsp) {
    irq_disable();
    kiln_enter_user(rip, rsp);
}

void set_fs_base(uint64_t base) {
    current_fs_base = base;
    wrmsr(kMsrFsBase, base);  // a hypercall on kvm-pvm
}

uint64_t fs_base() { return current_fs_base; }

}  // namespace kiln::arch

// 1: user_entry.S returns through the full frame (iretq / int $0x17).
extern "C" int kiln_syscall(kiln::arch::TrapFrame* f) {
    const kiln::sys::SyscallArgs a{{f->rdi, f->rsi, f->rdx, f->r10, f->r8, f->r9}};
    kiln::sys::set_syscall_frame(f);
    f->rax = static_cast<uint64_t>(kiln::sys::dispatch(f->rax, a));
    kiln::sched::preempt_point();
    return kiln::sys::return_to_user(*f) ? 1 : 0;
}
