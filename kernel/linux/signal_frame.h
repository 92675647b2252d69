// The x86-64 Linux signal frame the kernel writes on the user stack before
// entering a handler and reads back in rt_sigreturn: struct rt_sigframe
// (arch/x86/include/asm/sigframe.h) = return address, struct ucontext
// (<asm/ucontext.h>) holding struct sigcontext (<asm/sigcontext.h>), then
// siginfo_t (<asm-generic/siginfo.h>); the XSAVE area (struct
// _fpstate_64 + header + extended state, ended by FP_XSTATE_MAGIC2) lies
// above, 64-byte aligned, and sigcontext.fpstate points at it. signal.cpp
// checks these layouts against the UAPI headers. Pure: no kernel state.
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "linux/sigset.h"

namespace kiln::sys {

struct SigContext {  // struct sigcontext (64-bit)
    uint64_t r8, r9, r10, r11, r12, r13, r14, r15;
    uint64_t rdi, rsi, rbp, rbx, rdx, rax, rcx, rsp, rip;
    uint64_t eflags;
    uint16_t cs, gs, fs, ss;
    uint64_t err, trapno, oldmask, cr2;
    uint64_t fpstate;  // user address of the XSAVE/FXSAVE area; 0 = none
    uint64_t reserved1[8];
};
static_assert(sizeof(SigContext) == 256);

struct UContext {  // the kernel's struct ucontext
    uint64_t uc_flags;
    uint64_t uc_link;
    KernelStack uc_stack;
    SigContext uc_mcontext;
    uint64_t uc_sigmask;
};
static_assert(sizeof(UContext) == 304);

struct SigInfo {  // siginfo_t: 128 bytes, the union at offset 16
    int32_t si_signo;
    int32_t si_errno;
    int32_t si_code;
    int32_t pad;
    union {
        struct {
            int32_t pid;
            uint32_t uid;
        } kill;
        uint64_t addr;  // SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGTRAP
        uint8_t bytes[112];
    } fields;
};
static_assert(sizeof(SigInfo) == 128);

struct RtSigFrame {
    uint64_t pretcode;  // sa_restorer: where the handler returns
    UContext uc;
    SigInfo info;
};
static_assert(sizeof(RtSigFrame) == 440);
static_assert(offsetof(RtSigFrame, uc) == 8 && offsetof(RtSigFrame, info) == 312);

// uc_flags (<asm/ucontext.h>).
inline constexpr uint64_t kUcFpXstate = 0x1;
inline constexpr uint64_t kUcSigcontextSs = 0x2;
inline constexpr uint64_t kUcStrictRestoreSs = 0x4;

// The software-reserved bytes 464..511 of the FXSAVE area (struct
// _fpx_sw_bytes) say that an XSAVE area follows; FP_XSTATE_MAGIC2 sits
// right after the xstate_size bytes.
struct FpxSwBytes {
    uint32_t magic1;
    uint32_t extended_size;  // xstate_size + 4 (MAGIC2)
    uint64_t xfeatures;
    uint32_t xstate_size;
    uint32_t padding[7];
};
static_assert(sizeof(FpxSwBytes) == 48);
inline constexpr uint32_t kFpXstateMagic1 = 0x46505853;
inline constexpr uint32_t kFpXstateMagic2 = 0x46505845;
inline constexpr size_t kFpxSwBytesOffset = 464;
inline constexpr size_t kXsaveHeaderOffset = 512;

// si_code values.
inline constexpr int32_t kSiUser = 0;
inline constexpr int32_t kSiKernel = 0x80;
inline constexpr int32_t kSiTkill = -6;
inline constexpr int32_t kSegvMaperr = 1;
inline constexpr int32_t kSegvAccerr = 2;
inline constexpr int32_t kFpeIntdiv = 1;
inline constexpr int32_t kIllIllopn = 2;
inline constexpr int32_t kBusAdraln = 1;

// Where the pieces of a signal frame go (Linux get_sigframe): below the
// red zone of sp, or at the top of the alternate stack; the FPU area
// 64-byte aligned, the rt_sigframe under it so that frame + 8 is 16-byte
// aligned (the handler starts as if called).
struct FramePlacement {
    uint64_t frame;  // the rt_sigframe; the handler's rsp
    uint64_t fpstate;
};

constexpr bool on_stack(const KernelStack& ss, uint64_t sp) {
    return ss.ss_size != 0 && sp > ss.ss_sp && sp - ss.ss_sp <= ss.ss_size;
}

constexpr FramePlacement place_frame(uint64_t sp, const KernelStack& alt, bool use_alt,
                                     uint64_t fp_size) {
    if (use_alt && alt.ss_size != 0 && !on_stack(alt, sp)) {
        sp = alt.ss_sp + alt.ss_size;
    } else {
        sp -= 128;  // the red zone
    }
    const uint64_t fp = (sp - fp_size) & ~uint64_t{63};
    const uint64_t frame = ((fp - sizeof(RtSigFrame)) & ~uint64_t{15}) - 8;
    return {frame, fp};
}

// What a blocking syscall returns when a signal cut it short (Linux
// include/linux/errno.h); never seen by the application: on the way out the
// call is restarted (rip back over the 2-byte syscall, rax = its number) or
// fails with EINTR, as Linux's handle_signal decides.
inline constexpr int64_t kErestartsys = -512;           // restart if SA_RESTART
inline constexpr int64_t kErestartnointr = -513;        // always restart
inline constexpr int64_t kErestartnohand = -514;        // restart unless a handler ran
inline constexpr int64_t kErestartRestartblock = -516;  // EINTR (no restart_syscall yet)

enum class SyscallRestart { kKeep, kRestart, kEintr };

constexpr bool is_restart_result(int64_t r) {
    return r == kErestartsys || r == kErestartnointr || r == kErestartnohand ||
           r == kErestartRestartblock;
}

// handler: a handler is being entered (its sa_flags); else no handler runs.
constexpr SyscallRestart restart_decision(int64_t result, bool handler, uint64_t sa_flags) {
    if (!is_restart_result(result)) return SyscallRestart::kKeep;
    if (result == kErestartRestartblock) return SyscallRestart::kEintr;
    if (!handler || result == kErestartnointr) return SyscallRestart::kRestart;
    if (result == kErestartsys && (sa_flags & kSaRestart)) return SyscallRestart::kRestart;
    return SyscallRestart::kEintr;
}

// RFLAGS bits rt_sigreturn takes from the frame (Linux FIX_EFLAGS): the
// arithmetic flags, DF, TF, RF, AC; IF and IOPL stay as the kernel wants.
inline constexpr uint64_t kFixEflags =
    0x1 | 0x4 | 0x10 | 0x40 | 0x80 | 0x100 | 0x400 | 0x800 | 0x10000 | 0x40000;

}  // namespace kiln::sys
