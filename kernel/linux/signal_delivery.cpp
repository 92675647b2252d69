// Handler entry and rt_sigreturn (Linux arch/x86/kernel/signal.c,
// signal_64.c and fpu/signal.c are the reference for what a frame holds
// and what sigreturn accepts).
#include "linux/signal_delivery.h"

#include "sched/thread.h"

#include <asm/sigcontext.h>
#include <asm/siginfo.h>
#include <asm/signal.h>
#include <asm/ucontext.h>
#include <stddef.h>

#include "arch/x86_64/arch.h"
#include "arch/x86_64/fpu.h"
#include "arch/x86_64/traps.h"
#include "klog.h"
#include "linux/signal_frame.h"
#include "linux/sigset.h"
#include "linux/syscall.h"
#include "linux/user.h"
#include "sched/process.h"

namespace kiln::sys {

// The layouts against the UAPI headers.
static_assert(sizeof(SigContext) == sizeof(struct sigcontext));
static_assert(offsetof(SigContext, rip) == offsetof(struct sigcontext, rip));
static_assert(offsetof(SigContext, eflags) == offsetof(struct sigcontext, eflags));
static_assert(offsetof(SigContext, cs) == offsetof(struct sigcontext, cs));
static_assert(offsetof(SigContext, ss) == offsetof(struct sigcontext, ss));
static_assert(offsetof(SigContext, err) == offsetof(struct sigcontext, err));
static_assert(offsetof(SigContext, oldmask) == offsetof(struct sigcontext, oldmask));
static_assert(offsetof(SigContext, cr2) == offsetof(struct sigcontext, cr2));
static_assert(offsetof(SigContext, fpstate) == offsetof(struct sigcontext, fpstate));
static_assert(sizeof(UContext) == sizeof(struct ucontext));
static_assert(offsetof(UContext, uc_stack) == offsetof(struct ucontext, uc_stack));
static_assert(offsetof(UContext, uc_mcontext) == offsetof(struct ucontext, uc_mcontext));
static_assert(offsetof(UContext, uc_sigmask) == offsetof(struct ucontext, uc_sigmask));
static_assert(sizeof(SigInfo) == sizeof(siginfo_t));
static_assert(offsetof(SigInfo, si_code) == offsetof(siginfo_t, si_code));
static_assert(offsetof(SigInfo, fields.addr) == offsetof(siginfo_t, si_addr));
static_assert(offsetof(SigInfo, fields.kill.pid) == offsetof(siginfo_t, si_pid));
static_assert(offsetof(SigInfo, fields.kill.uid) == offsetof(siginfo_t, si_uid));
static_assert(sizeof(FpxSwBytes) == sizeof(struct _fpx_sw_bytes));
static_assert(offsetof(struct _fpstate_64, sw_reserved) == kFpxSwBytesOffset);
static_assert(kFpXstateMagic1 == FP_XSTATE_MAGIC1 && kFpXstateMagic2 == FP_XSTATE_MAGIC2);
static_assert(kUcFpXstate == UC_FP_XSTATE && kUcSigcontextSs == UC_SIGCONTEXT_SS &&
              kUcStrictRestoreSs == UC_STRICT_RESTORE_SS);
static_assert(kSiUser == SI_USER && kSiKernel == SI_KERNEL && kSiTkill == SI_TKILL &&
              kSegvMaperr == SEGV_MAPERR && kSegvAccerr == SEGV_ACCERR &&
              kFpeIntdiv == FPE_INTDIV && kIllIllopn == ILL_ILLOPN && kBusAdraln == BUS_ADRALN);

namespace {

using arch::TrapFrame;
using sched::Process;
using sched::SignalAction;

constexpr uint16_t kUserCs = 0x33;
constexpr uint16_t kUserSs = 0x2b;
constexpr uint64_t kFlagsIf = 0x200, kFlagsTf = 0x100, kFlagsDf = 0x400, kFlagsRf = 0x10000;

TrapFrame* current_frame = nullptr;
uint64_t current_nr = 0;  // the syscall number, for a restart
bool full_return = false;
uint64_t external_signals = 0;              // set_external_signals
constexpr uint64_t kSyscallVector = 0x100;  // user_entry.S marks syscall frames so

// A syscall that a signal cut short: restarted or EINTR (signal_frame.h).
void settle_restart(TrapFrame& f, bool handler, uint64_t sa_flags) {
    switch (restart_decision(static_cast<int64_t>(f.rax), handler, sa_flags)) {
        case SyscallRestart::kKeep:
            return;
        case SyscallRestart::kRestart:
            f.rax = current_nr;
            f.rip -= 2;  // syscall is 0f 05
            return;
        case SyscallRestart::kEintr:
            f.rax = static_cast<uint64_t>(errno_result(Errno::kEINTR));
            return;
    }
}

// One CPU, one thread: the XSAVE image passes through here on its way to
// or from the user frame (xsave needs 64-byte alignment; AMX tops 11 KiB).
alignas(64) uint8_t fpu_buf[16384];

struct FaultInfo {
    uint64_t trapno = 0, err = 0, cr2 = 0;
};

// sas_ss_flags(): how the alternate stack looks from sp.
int32_t altstack_flags(const KernelStack& alt, uint64_t sp) {
    if (alt.ss_size == 0) return kSsDisable;
    return (on_stack(alt, sp) ? kSsOnstack : 0) | alt.ss_flags;
}

// Writes the FPU state at fp in user memory (Linux copy_fpstate_to_sigframe).
Result<void> save_fpu(uint64_t fp, uint64_t size) {
    const arch::FpuLayout& l = arch::fpu_layout();
    if (l.size + 4 > sizeof(fpu_buf)) return Error(Errno::kEFAULT);
    arch::fpu_save(fpu_buf);
    if (l.xsave) {
        FpxSwBytes sw = {};
        sw.magic1 = kFpXstateMagic1;
        sw.extended_size = l.size + 4;
        sw.xfeatures = l.xfeatures;
        sw.xstate_size = l.size;
        __builtin_memcpy(fpu_buf + kFpxSwBytesOffset, &sw, sizeof(sw));
        // The legacy FP and SSE areas are always valid in the frame, so
        // that a handler's edits to them take effect (Linux does the same).
        fpu_buf[kXsaveHeaderOffset] |= 0x3;
        const uint32_t magic2 = kFpXstateMagic2;
        __builtin_memcpy(fpu_buf + l.size, &magic2, 4);
    }
    return copy_to_user(fp, fpu_buf, size);
}

// Builds the frame and points f at the handler. Errors leave f unchanged.
Result<void> enter_handler(TrapFrame& f, int sig, const SignalAction& act, const SigInfo& info,
                           const FaultInfo& fault) {
    Process& p = sched::current();
    KernelStack& alt = p.posix.altstack;
    if (!(act.flags & kSaRestorer) || act.restorer >= kUserTop || act.handler >= kUserTop) {
        return Error(Errno::kEFAULT);
    }
    const arch::FpuLayout& l = arch::fpu_layout();
    const uint64_t fp_size = l.xsave ? l.size + 4 : 512;
    const bool use_alt = (act.flags & kSaOnstack) && !(alt.ss_flags & kSsDisable);
    const FramePlacement at = place_frame(f.rsp, alt, use_alt, fp_size);
    if (at.frame < 4096 || at.fpstate + fp_size > kUserTop || at.frame > at.fpstate) {
        return Error(Errno::kEFAULT);
    }
    TRY(save_fpu(at.fpstate, fp_size));

    const uint64_t old_mask = p.posix.restore_mask ? p.posix.saved_mask : p.signal_mask;
    RtSigFrame fr = {};
    fr.pretcode = act.restorer;
    fr.uc.uc_flags = kUcSigcontextSs | kUcStrictRestoreSs | (l.xsave ? kUcFpXstate : 0);
    fr.uc.uc_stack = {alt.ss_sp, altstack_flags(alt, f.rsp), 0, alt.ss_size};
    SigContext& sc = fr.uc.uc_mcontext;
    sc.r8 = f.r8, sc.r9 = f.r9, sc.r10 = f.r10, sc.r11 = f.r11;
    sc.r12 = f.r12, sc.r13 = f.r13, sc.r14 = f.r14, sc.r15 = f.r15;
    sc.rdi = f.rdi, sc.rsi = f.rsi, sc.rbp = f.rbp, sc.rbx = f.rbx;
    sc.rdx = f.rdx, sc.rax = f.rax, sc.rcx = f.rcx, sc.rsp = f.rsp, sc.rip = f.rip;
    sc.eflags = f.rflags;
    sc.cs = kUserCs;
    sc.ss = kUserSs;
    sc.err = fault.err;
    sc.trapno = fault.trapno;
    sc.cr2 = fault.cr2;
    sc.oldmask = old_mask;
    sc.fpstate = at.fpstate;
    fr.uc.uc_sigmask = old_mask;
    fr.info = info;
    TRY(copy_to_user(at.frame, &fr, sizeof(fr)));

    if ((alt.ss_flags & kSsAutodisarm) && on_stack(alt, at.frame + 8)) {
        alt = KernelStack{0, kSsDisable, 0, 0};
    }
    f.rdi = static_cast<uint64_t>(sig);
    f.rsi = at.frame + offsetof(RtSigFrame, info);
    f.rdx = at.frame + offsetof(RtSigFrame, uc);
    f.rax = 0;
    f.rsp = at.frame;
    f.rip = act.handler;
    f.rflags &= ~(kFlagsDf | kFlagsRf | kFlagsTf);
    f.cs = kUserCs;
    f.ss = kUserSs;
    arch::fpu_init_state();  // the handler starts with a clean FPU, as on Linux

    p.posix.restore_mask = false;
    uint64_t mask = p.signal_mask | act.mask;
    if (!(act.flags & kSaNodefer)) mask |= sigbit(sig);
    p.signal_mask = mask & ~kUnblockable;
    if (act.flags & kSaResethand) p.signal_actions[sig - 1].handler = kSigDfl;
    return {};
}

}  // namespace

void set_syscall_frame(TrapFrame* f) {
    current_frame = f;
    current_nr = f->rax;
}

constexpr int kSigRtmin = 32;

bool post_signal_info(const SigInfo& info) {
    return post_signal_to(info, nullptr);
}

bool post_signal_to(const SigInfo& info, sched::Thread* thread) {
    Process& p = sched::current();
    ProcessState& s = p.posix;
    const int sig = info.si_signo;
    const uint64_t bit = sigbit(sig);
    sched::Thread* t = thread != nullptr ? thread : sched::signal_target(sig);
    arch::IrqGuard masked;  // an interrupt may post to the same set
    if (!(sched::signal_mask_of(t) & bit) &&
        signal_fate(sig, p.signal_actions[sig - 1].handler) == SignalFate::kIgnore) {
        return true;
    }
    uint64_t& pending = sched::signal_pending_of(t);
    if (pending & bit) {
        if (sig < kSigRtmin) return true;  // standard signals do not queue
        if (s.rt_queued == ProcessState::kRtQueueMax) return false;
        s.rt_queue[s.rt_queued++] = info;
        return true;
    }
    pending |= bit;
    s.pending_info[sig - 1] = info;
    sched::signal_wake(t);  // a blocking call it is in ends (EINTR)
    return true;
}

void discard_pending(int sig) {
    ProcessState& s = sched::current().posix;
    s.signal_pending &= ~sigbit(sig);
    s.pending_info[sig - 1] = SigInfo{};
    uint32_t kept = 0;
    for (uint32_t i = 0; i < s.rt_queued; i++) {
        if (s.rt_queue[i].si_signo != sig) s.rt_queue[kept++] = s.rt_queue[i];
    }
    s.rt_queued = kept;
}

// Takes the siginfo of pending signal sig; a queued real-time instance
// becomes the pending one.
SigInfo take_pending(int sig) {
    ProcessState& s = sched::current().posix;
    SigInfo info = s.pending_info[sig - 1];
    info.si_signo = sig;
    s.pending_info[sig - 1] = SigInfo{};
    s.signal_pending &= ~sigbit(sig);
    for (uint32_t i = 0; i < s.rt_queued; i++) {
        if (s.rt_queue[i].si_signo != sig) continue;
        s.pending_info[sig - 1] = s.rt_queue[i];
        s.signal_pending |= sigbit(sig);
        for (uint32_t j = i + 1; j < s.rt_queued; j++) s.rt_queue[j - 1] = s.rt_queue[j];
        s.rt_queued--;
        break;
    }
    return info;
}

void post_signal(int sig, int32_t code) {
    const Process& p = sched::current();
    SigInfo info = {};
    info.si_signo = sig;
    info.si_code = code;
    if (code != kSiKernel) {  // kill, tkill: the process itself sent it
        info.fields.kill.pid = p.pid;
        info.fields.kill.uid = p.uid;
    }
    post_signal_info(info);
}

// Who sent a signal, for the report when it ends the process.
const char* sender(const SigInfo& info) {
    if (info.si_code == kSiKernel) return "sent by its interval timer";
    if (info.si_code == kSiUser && info.fields.kill.pid == 0) return "sent from the host";
    return "sent by the process itself";
}

void set_external_signals(uint64_t set) {
    external_signals = set;
}

bool signal_can_arrive(uint64_t mask) {
    if (sched::live_threads() > 1) return true;  // another thread may send one
    const Process& p = sched::current();
    uint64_t could = external_signals;
    if (p.posix.itimers[kItimerReal].deadline_ns != 0) could |= sigbit(kSigAlrm);
    could &= ~mask;
    for (int sig = lowest_signal(could); sig != 0; sig = lowest_signal(could)) {
        could &= ~sigbit(sig);
        if (signal_fate(sig, p.signal_actions[sig - 1].handler) != SignalFate::kIgnore) return true;
    }
    return false;
}

bool signal_ready() {
    const Process& p = sched::current();
    return (p.posix.signal_pending & ~p.signal_mask) != 0;
}
TrapFrame* syscall_frame() {
    return current_frame;
}

SyscallState syscall_state() {
    return {current_frame, current_nr, full_return};
}

void set_syscall_state(const SyscallState& s) {
    current_frame = s.frame;
    current_nr = s.nr;
    full_return = s.full_return;
}

bool return_to_user(TrapFrame& f) {
    Process& p = sched::current();
    bool unsettled = f.vector == kSyscallVector && is_restart_result(static_cast<int64_t>(f.rax));
    // The common case, on every syscall: nothing to do.
    if (!full_return && !unsettled && !p.posix.restore_mask &&
        (p.posix.signal_pending & ~p.signal_mask) == 0) {
        return false;
    }
    bool whole = full_return;
    full_return = false;
    for (;;) {
        const int sig = lowest_signal(p.posix.signal_pending & ~p.signal_mask);
        if (sig == 0) break;
        const SigInfo info = take_pending(sig);
        const SignalAction act = p.signal_actions[sig - 1];
        switch (signal_fate(sig, act.handler)) {
            case SignalFate::kIgnore:
            case SignalFate::kContinue:
                continue;
            case SignalFate::kStop: {
                // Nothing could send SIGCONT to a stopped unikernel, so
                // stopping would hang the VM for good.
                static bool reported = false;
                if (!reported) {
                    reported = true;
                    klog::warn("kiln: %s would stop the process; kiln does not stop processes",
                               sched::signal_name(sig));
                }
                continue;
            }
            case SignalFate::kTerminate:
            case SignalFate::kCoreDump:
                sched::die_of_signal(sig, sender(info));
            case SignalFate::kHandler:
                break;
        }
        if (unsettled) {  // the frame records the syscall's outcome
            settle_restart(f, true, act.flags);
            unsettled = false;
        }
        if (!enter_handler(f, sig, act, info, {}).ok()) {
            sched::die_of_signal(kSigSegv, "the signal frame for a handler could not be written");
        }
        whole = true;
    }
    if (unsettled) {
        settle_restart(f, false, 0);
        whole = true;
    }
    if (p.posix.restore_mask) {  // rt_sigsuspend, and no handler ran
        p.signal_mask = p.posix.saved_mask;
        p.posix.restore_mask = false;
    }
    return whole;
}

FaultOutcome deliver_fault(TrapFrame& f, int sig, int32_t code, uint64_t fault_addr, uint64_t cr2) {
    Process& p = sched::current();
    const SignalAction act = p.signal_actions[sig - 1];
    // Linux force_sig: a blocked or ignored fault signal takes its default action.
    if ((p.signal_mask & sigbit(sig)) || signal_fate(sig, act.handler) != SignalFate::kHandler) {
        return FaultOutcome::kNoHandler;
    }
    SigInfo info = {};
    info.si_signo = sig;
    info.si_code = code;
    info.fields.addr = fault_addr;
    const FaultInfo fault = {f.vector, f.error, cr2};
    if (!enter_handler(f, sig, act, info, fault).ok()) return FaultOutcome::kFrameFailed;
    return FaultOutcome::kHandlerEntered;
}

// rt_sigreturn(2): the handler returned into sa_restorer, which calls this
// with rsp just above the popped return address: the rt_sigframe is at rsp - 8.
int64_t sys_rt_sigreturn(const SyscallArgs&) {
    TrapFrame& f = *current_frame;
    Process& p = sched::current();
    auto fr = read_user<RtSigFrame>(f.rsp - 8);
    if (!fr.ok()) sched::die_of_signal(kSigSegv, "rt_sigreturn found no signal frame");
    const SigContext& sc = fr->uc.uc_mcontext;
    if (sc.rip >= kUserTop) sched::die_of_signal(kSigSegv, "rt_sigreturn to a kernel address");

    // The FPU state (Linux fpu__restore_sig): the XSAVE image when both
    // markers and the sizes match this machine's, else the legacy area.
    if (sc.fpstate == 0) {
        arch::fpu_init_state();
    } else {
        const arch::FpuLayout& l = arch::fpu_layout();
        if (sc.fpstate & 63 || !copy_from_user(fpu_buf, sc.fpstate, 512).ok()) {
            sched::die_of_signal(kSigSegv, "rt_sigreturn found a bad FPU state pointer");
        }
        FpxSwBytes sw;
        __builtin_memcpy(&sw, fpu_buf + kFpxSwBytesOffset, sizeof(sw));
        bool xstate = l.xsave && (fr->uc.uc_flags & kUcFpXstate) && sw.magic1 == kFpXstateMagic1 &&
                      sw.xstate_size == l.size && sw.extended_size == l.size + 4;
        if (xstate) {
            auto magic2 = read_user<uint32_t>(sc.fpstate + l.size);
            xstate = magic2.ok() && magic2.value() == kFpXstateMagic2 &&
                     copy_from_user(fpu_buf, sc.fpstate, l.size).ok();
        }
        if (!arch::fpu_state_valid(fpu_buf, xstate)) {
            sched::die_of_signal(kSigSegv, "rt_sigreturn found an invalid FPU state");
        }
        if (xstate) {
            arch::fpu_restore(fpu_buf, sw.xfeatures);
        } else {
            arch::fpu_restore_legacy(fpu_buf);
        }
    }

    f.r8 = sc.r8, f.r9 = sc.r9, f.r10 = sc.r10, f.r11 = sc.r11;
    f.r12 = sc.r12, f.r13 = sc.r13, f.r14 = sc.r14, f.r15 = sc.r15;
    f.rdi = sc.rdi, f.rsi = sc.rsi, f.rbp = sc.rbp, f.rbx = sc.rbx;
    f.rdx = sc.rdx, f.rcx = sc.rcx, f.rsp = sc.rsp, f.rip = sc.rip;
    f.rflags = (f.rflags & ~kFixEflags) | (sc.eflags & kFixEflags) | kFlagsIf | 0x2;
    f.cs = kUserCs;  // whatever the frame says: user code and stack segments
    f.ss = kUserSs;
    p.signal_mask = fr->uc.uc_sigmask & ~kUnblockable;
    // The alternate stack as the frame recorded it (restore_altstack),
    // unless the restored code still runs on the current one.
    KernelStack& alt = p.posix.altstack;
    if (!on_stack(alt, f.rsp)) {
        auto next = apply_sigaltstack(fr->uc.uc_stack);
        if (next.ok()) alt = next.value();
    }
    full_return = true;
    return static_cast<int64_t>(sc.rax);
}

}  // namespace kiln::sys
