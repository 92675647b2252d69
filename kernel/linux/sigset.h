// Signal bookkeeping rules: signal sets, rt_sigprocmask(2), rt_sigaction(2)
// validation, default actions (signal(7)) and sigaltstack(2) checks. Pure and
// header-only so the host tests use exactly these rules; the numbers are
// x86-64 Linux's (spelt out because <asm/signal.h> clashes with the C
// library's <signal.h> on the host).
#pragma once

#include <stdint.h>

#include "kiln/result.h"

namespace kiln::sys {

inline constexpr int kNsig = 64;
inline constexpr int kSigHup = 1;
inline constexpr int kSigInt = 2;
inline constexpr int kSigQuit = 3;
inline constexpr int kSigIll = 4;
inline constexpr int kSigTrap = 5;
inline constexpr int kSigAbrt = 6;
inline constexpr int kSigBus = 7;
inline constexpr int kSigFpe = 8;
inline constexpr int kSigKill = 9;
inline constexpr int kSigUsr1 = 10;
inline constexpr int kSigSegv = 11;
inline constexpr int kSigUsr2 = 12;
inline constexpr int kSigAlrm = 14;
inline constexpr int kSigTerm = 15;
inline constexpr int kSigChld = 17;
inline constexpr int kSigCont = 18;
inline constexpr int kSigStop = 19;
inline constexpr int kSigTstp = 20;
inline constexpr int kSigTtin = 21;
inline constexpr int kSigTtou = 22;
inline constexpr int kSigUrg = 23;
inline constexpr int kSigXcpu = 24;
inline constexpr int kSigXfsz = 25;
inline constexpr int kSigVtalrm = 26;
inline constexpr int kSigProf = 27;
inline constexpr int kSigWinch = 28;
inline constexpr int kSigSys = 31;

inline constexpr uint64_t kSigDfl = 0;
inline constexpr uint64_t kSigIgn = 1;

inline constexpr int kSigBlock = 0;
inline constexpr int kSigUnblock = 1;
inline constexpr int kSigSetmask = 2;

// The kernel's sigset_t is 64 bits; rt_sig* calls insist on sigsetsize 8.
inline constexpr uint64_t kSigsetSize = 8;

// sa_flags bits Linux keeps (UAPI_SA_FLAGS, x86-64); others are cleared on
// the way in and out so that programs can probe for support (SA_UNSUPPORTED).
inline constexpr uint64_t kSaNocldstop = 0x1;
inline constexpr uint64_t kSaNocldwait = 0x2;
inline constexpr uint64_t kSaSiginfo = 0x4;
inline constexpr uint64_t kSaExposeTagbits = 0x800;
inline constexpr uint64_t kSaRestorer = 0x04000000;
inline constexpr uint64_t kSaOnstack = 0x08000000;
inline constexpr uint64_t kSaRestart = 0x10000000;
inline constexpr uint64_t kSaNodefer = 0x40000000;
inline constexpr uint64_t kSaResethand = 0x80000000;
inline constexpr uint64_t kSaKnownFlags = kSaNocldstop | kSaNocldwait | kSaSiginfo |
                                          kSaExposeTagbits | kSaRestorer | kSaOnstack | kSaRestart |
                                          kSaNodefer | kSaResethand;

constexpr bool signal_valid(int sig) {
    return sig >= 1 && sig <= kNsig;
}
constexpr uint64_t sigbit(int sig) {
    return uint64_t{1} << (sig - 1);
}

// SIGKILL and SIGSTOP can be neither caught, ignored nor blocked.
inline constexpr uint64_t kUnblockable = sigbit(kSigKill) | sigbit(kSigStop);

// The lowest-numbered signal in set, or 0.
constexpr int lowest_signal(uint64_t set) {
    return set == 0 ? 0 : __builtin_ctzll(set) + 1;
}

// The new mask after rt_sigprocmask(how, set): EINVAL for an unknown how.
// SIGKILL and SIGSTOP are silently left unblocked.
inline Result<uint64_t> apply_sigprocmask(int how, uint64_t old_mask, uint64_t set) {
    uint64_t m;
    switch (how) {
        case kSigBlock:
            m = old_mask | set;
            break;
        case kSigUnblock:
            m = old_mask & ~set;
            break;
        case kSigSetmask:
            m = set;
            break;
        default:
            return Error(Errno::kEINVAL);
    }
    return m & ~kUnblockable;
}

// rt_sigaction(2): EINVAL for an invalid signal, or for changing the action
// of SIGKILL or SIGSTOP (querying them is fine).
inline Result<void> check_sigaction(int sig, bool changing) {
    if (!signal_valid(sig)) return Error(Errno::kEINVAL);
    if (changing && (sig == kSigKill || sig == kSigStop)) return Error(Errno::kEINVAL);
    return {};
}

// What happens when a signal arrives, by its disposition (signal(7)).
enum class SignalFate {
    kIgnore,     // SIG_IGN, or a default action of Ign
    kTerminate,  // default Term
    kCoreDump,   // default Core (kiln reports instead of dumping)
    kStop,       // default Stop
    kContinue,   // default Cont
    kHandler,    // a user handler runs
};

constexpr SignalFate default_fate(int sig) {
    switch (sig) {
        case kSigChld:
        case kSigUrg:
        case kSigWinch:
            return SignalFate::kIgnore;
        case kSigCont:
            return SignalFate::kContinue;
        case kSigStop:
        case kSigTstp:
        case kSigTtin:
        case kSigTtou:
            return SignalFate::kStop;
        case kSigQuit:
        case kSigIll:
        case kSigTrap:
        case kSigAbrt:
        case kSigBus:
        case kSigFpe:
        case kSigSegv:
        case kSigXcpu:
        case kSigXfsz:
        case kSigSys:
            return SignalFate::kCoreDump;
        default:
            return SignalFate::kTerminate;
    }
}

constexpr SignalFate signal_fate(int sig, uint64_t handler) {
    // SIGKILL and SIGSTOP keep their default whatever is stored.
    if (sig == kSigKill || sig == kSigStop) return default_fate(sig);
    if (handler == kSigIgn) return SignalFate::kIgnore;
    if (handler == kSigDfl) return default_fate(sig);
    return SignalFate::kHandler;
}

// sigaltstack(2).
inline constexpr int32_t kSsOnstack = 1;
inline constexpr int32_t kSsDisable = 2;
inline constexpr uint32_t kSsAutodisarm = 1u << 31;
inline constexpr uint64_t kMinSigstkSz = 2048;

struct KernelStack {  // stack_t
    uint64_t ss_sp;
    int32_t ss_flags;
    uint32_t pad;
    uint64_t ss_size;
};
static_assert(sizeof(KernelStack) == 24);

// The alternate stack after sigaltstack(ss): EINVAL for unknown flags,
// ENOMEM for a stack smaller than MINSIGSTKSZ (unless disabling). SS_ONSTACK
// in the request is accepted as 0, as Linux does for old programs. The
// caller answers EPERM while running on the alternate stack.
inline Result<KernelStack> apply_sigaltstack(const KernelStack& ss) {
    const uint32_t mode = static_cast<uint32_t>(ss.ss_flags) & ~kSsAutodisarm;
    if (mode != 0 && mode != kSsOnstack && mode != kSsDisable) return Error(Errno::kEINVAL);
    if (mode == kSsDisable) return KernelStack{0, kSsDisable, 0, 0};
    if (ss.ss_size < kMinSigstkSz) return Error(Errno::kENOMEM);
    const int32_t kept = static_cast<int32_t>(static_cast<uint32_t>(ss.ss_flags) & kSsAutodisarm);
    return KernelStack{ss.ss_sp, kept, 0, ss.ss_size};
}

}  // namespace kiln::sys
