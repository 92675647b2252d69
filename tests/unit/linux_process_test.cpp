// Resource limits, credentials, signal bookkeeping, uname and getrandom
// chunking (kernel/linux/rlimit.h, credentials.h, sigset.h, utsname.h,
// getrandom.h), checked against the rules of their man pages.
#include <gtest/gtest.h>
#include <stddef.h>
#include <ucontext.h>
#include <string.h>

#include <string>
#include <vector>

#include "linux/credentials.h"
#include "linux/getrandom.h"
#include "linux/rlimit.h"
#include "linux/signal_frame.h"
#include "linux/sigset.h"
#include "linux/utsname.h"

using kiln::Errno;
using kiln::Error;
using kiln::Result;
using namespace kiln::sys;

namespace {

// ---- getrlimit(2) / setrlimit(2) ----

TEST(Rlimit, Defaults) {
    ResourceLimits l;
    EXPECT_EQ(l.get(kRlimitStack)->rlim_cur, 8u << 20);
    EXPECT_EQ(l.get(kRlimitStack)->rlim_max, kRlimInfinity);
    EXPECT_EQ(l.get(kRlimitNofile)->rlim_cur, 1024u);
    EXPECT_EQ(l.get(kRlimitNofile)->rlim_max, 524288u);
    EXPECT_EQ(l.get(kRlimitCore)->rlim_cur, 0u);
    for (int r : {kRlimitAs, kRlimitData, kRlimitRss, kRlimitCpu, kRlimitFsize}) {
        EXPECT_EQ(l.get(r)->rlim_cur, kRlimInfinity) << r;
        EXPECT_EQ(l.get(r)->rlim_max, kRlimInfinity) << r;
    }
    EXPECT_EQ(l.get(kRlimitCount).error(), Errno(EINVAL));
    EXPECT_EQ(l.get(-1).error(), Errno(EINVAL));
}

TEST(Rlimit, SoftUpToHardWithoutPrivilege) {
    ResourceLimits l;
    EXPECT_TRUE(l.set(kRlimitNofile, {524288, 524288}, false).ok());
    EXPECT_EQ(l.get(kRlimitNofile)->rlim_cur, 524288u);
    // Lowering the hard limit is allowed, raising it back is not.
    EXPECT_TRUE(l.set(kRlimitNofile, {1024, 4096}, false).ok());
    EXPECT_EQ(l.set(kRlimitNofile, {1024, 8192}, false).error(), Errno(EPERM));
    EXPECT_EQ(l.get(kRlimitNofile)->rlim_max, 4096u);
    EXPECT_EQ(l.set(kRlimitNofile, {8192, 4096}, false).error(), Errno(EINVAL));
}

TEST(Rlimit, PrivilegedMayRaiseHard) {
    ResourceLimits l;
    EXPECT_TRUE(l.set(kRlimitNofile, {1 << 20, 1 << 20}, true).ok());
    // ... but never past nr_open.
    EXPECT_EQ(l.set(kRlimitNofile, {1024, (1 << 20) + 1}, true).error(), Errno(EPERM));
    EXPECT_TRUE(l.set(kRlimitNice, {40, 40}, true).ok());
    EXPECT_EQ(l.set(kRlimitCount, {0, 0}, true).error(), Errno(EINVAL));
}

// ---- setuid(2) family ----

TEST(Credentials, RootDropsForGood) {
    IdSet root;
    auto r = apply_setid(root, 65534, true);
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r->real, 65534u);
    EXPECT_EQ(r->effective, 65534u);
    EXPECT_EQ(r->saved, 65534u);
    EXPECT_EQ(r->fs, 65534u);
    EXPECT_EQ(apply_setid(r.value(), 0, false).error(), Errno(EPERM));
    EXPECT_TRUE(apply_setid(r.value(), 65534, false).ok());  // unchanged is fine
    EXPECT_EQ(apply_setid(root, kIdUnchanged, true).error(), Errno(EINVAL));
}

TEST(Credentials, UnprivilegedSwapsAmongOwnIds) {
    IdSet ids{1000, 0, 0, 0};  // a set-user-ID-root program
    // setresuid(-1, 1000, -1): temporarily drop, keeping saved 0.
    auto r = apply_setresid(ids, kIdUnchanged, 1000, kIdUnchanged, true);
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r->effective, 1000u);
    EXPECT_EQ(r->saved, 0u);
    // Unprivileged now, but 0 is still the saved id: regain it.
    auto back = apply_setresid(r.value(), kIdUnchanged, 0, kIdUnchanged, false);
    ASSERT_TRUE(back.ok());
    EXPECT_EQ(back->effective, 0u);
    EXPECT_EQ(apply_setresid(r.value(), 5, kIdUnchanged, kIdUnchanged, false).error(),
              Errno(EPERM));
    // setuid as unprivileged sets the effective id only.
    auto e = apply_setid(r.value(), 0, false);
    ASSERT_TRUE(e.ok());
    EXPECT_EQ(e->real, 1000u);
    EXPECT_EQ(e->effective, 0u);
}

TEST(Credentials, SetreuidSavedRule) {
    IdSet ids{1000, 1000, 1000, 1000};
    // Setting the real id makes saved follow the new effective id.
    auto r = apply_setreid(IdSet{0, 0, 0, 0}, 1000, 2000, true);
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r->saved, 2000u);
    // Setting euid to the real id leaves saved alone.
    auto s = apply_setreid(IdSet{1000, 0, 0, 0}, kIdUnchanged, 1000, false);
    ASSERT_TRUE(s.ok());
    EXPECT_EQ(s->saved, 0u);
    EXPECT_EQ(apply_setreid(ids, 0, kIdUnchanged, false).error(), Errno(EPERM));
    EXPECT_TRUE(apply_setreid(ids, kIdUnchanged, kIdUnchanged, false).ok());
}

TEST(Credentials, Setfsid) {
    IdSet ids{1000, 1000, 1000, 1000};
    IdSet out;
    EXPECT_EQ(apply_setfsid(ids, 0, false, &out), 1000u);
    EXPECT_EQ(out.fs, 1000u);  // refused silently
    EXPECT_EQ(apply_setfsid(IdSet{}, 42, true, &out), 0u);
    EXPECT_EQ(out.fs, 42u);
}

// ---- signals ----

TEST(Sigset, Procmask) {
    const uint64_t all = ~uint64_t{0};
    EXPECT_EQ(apply_sigprocmask(kSigBlock, 0, all).value(), all & ~kUnblockable);
    EXPECT_EQ(apply_sigprocmask(kSigBlock, sigbit(kSigInt), sigbit(kSigAbrt)).value(),
              sigbit(kSigInt) | sigbit(kSigAbrt));
    EXPECT_EQ(apply_sigprocmask(kSigUnblock, all & ~kUnblockable, sigbit(kSigAbrt)).value(),
              all & ~kUnblockable & ~sigbit(kSigAbrt));
    EXPECT_EQ(apply_sigprocmask(kSigSetmask, all, sigbit(kSigKill)).value(), 0u);
    EXPECT_EQ(apply_sigprocmask(3, 0, 0).error(), Errno(EINVAL));
    EXPECT_EQ(sigbit(1), 1u);
    EXPECT_EQ(sigbit(64), uint64_t{1} << 63);
    EXPECT_EQ(lowest_signal(0), 0);
    EXPECT_EQ(lowest_signal(sigbit(kSigAbrt) | sigbit(kSigSegv)), kSigAbrt);
    EXPECT_EQ(lowest_signal(sigbit(64)), 64);
}

TEST(Sigset, Sigaction) {
    EXPECT_TRUE(check_sigaction(kSigKill, false).ok());  // python queries all 64
    EXPECT_EQ(check_sigaction(kSigKill, true).error(), Errno(EINVAL));
    EXPECT_EQ(check_sigaction(kSigStop, true).error(), Errno(EINVAL));
    EXPECT_EQ(check_sigaction(0, false).error(), Errno(EINVAL));
    EXPECT_EQ(check_sigaction(65, false).error(), Errno(EINVAL));
    EXPECT_TRUE(check_sigaction(64, true).ok());
    // redis passes garbage in the high bits of sa_flags; they are dropped.
    const uint64_t redis = 0xffffffff00000000ull | kSaSiginfo | kSaRestorer;
    EXPECT_EQ(redis & kSaKnownFlags, kSaSiginfo | kSaRestorer);
    EXPECT_EQ(0x400 & kSaKnownFlags, 0u);  // SA_UNSUPPORTED is never kept
}

TEST(Sigset, Fates) {
    EXPECT_EQ(signal_fate(kSigAbrt, kSigDfl), SignalFate::kCoreDump);
    EXPECT_EQ(signal_fate(kSigSegv, kSigDfl), SignalFate::kCoreDump);
    EXPECT_EQ(signal_fate(kSigInt, kSigDfl), SignalFate::kTerminate);
    EXPECT_EQ(signal_fate(kSigAlrm, kSigDfl), SignalFate::kTerminate);
    EXPECT_EQ(signal_fate(40, kSigDfl), SignalFate::kTerminate);  // real-time
    EXPECT_EQ(signal_fate(kSigChld, kSigDfl), SignalFate::kIgnore);
    EXPECT_EQ(signal_fate(kSigWinch, kSigDfl), SignalFate::kIgnore);
    EXPECT_EQ(signal_fate(kSigCont, kSigDfl), SignalFate::kContinue);
    EXPECT_EQ(signal_fate(kSigTstp, kSigDfl), SignalFate::kStop);
    EXPECT_EQ(signal_fate(13, kSigIgn), SignalFate::kIgnore);  // SIGPIPE ignored
    EXPECT_EQ(signal_fate(kSigInt, 0x401000), SignalFate::kHandler);
    EXPECT_EQ(signal_fate(kSigKill, kSigIgn), SignalFate::kTerminate);
}

TEST(Sigset, Altstack) {
    auto s = apply_sigaltstack({0x1000, 0, 0, 8192});
    ASSERT_TRUE(s.ok());
    EXPECT_EQ(s->ss_sp, 0x1000u);
    EXPECT_EQ(s->ss_size, 8192u);
    EXPECT_EQ(s->ss_flags, 0);
    EXPECT_EQ(apply_sigaltstack({0x1000, 0, 0, 1024}).error(), Errno(ENOMEM));
    EXPECT_EQ(apply_sigaltstack({0x1000, 4, 0, 8192}).error(), Errno(EINVAL));
    auto off = apply_sigaltstack({0x1000, kSsDisable, 0, 0});
    ASSERT_TRUE(off.ok());
    EXPECT_EQ(off->ss_flags, kSsDisable);
    EXPECT_EQ(off->ss_size, 0u);
    EXPECT_TRUE(apply_sigaltstack({0x1000, kSsOnstack, 0, 8192}).ok());
    auto ad = apply_sigaltstack({0x1000, int32_t(kSsAutodisarm), 0, 8192});
    ASSERT_TRUE(ad.ok());
    EXPECT_EQ(uint32_t(ad->ss_flags), kSsAutodisarm);
}

// ---- uname(2) ----

// The signal frame (kernel/linux/signal_frame.h) as the C library reads it:
// glibc's mcontext_t gregs[] indexes the same sigcontext words.
TEST(SignalFrame, GregsMatchTheCLibrary) {
    using kiln::sys::SigContext;
    using kiln::sys::UContext;
    EXPECT_EQ(offsetof(SigContext, r8), REG_R8 * 8u);
    EXPECT_EQ(offsetof(SigContext, r15), REG_R15 * 8u);
    EXPECT_EQ(offsetof(SigContext, rdi), REG_RDI * 8u);
    EXPECT_EQ(offsetof(SigContext, rax), REG_RAX * 8u);
    EXPECT_EQ(offsetof(SigContext, rsp), REG_RSP * 8u);
    EXPECT_EQ(offsetof(SigContext, rip), REG_RIP * 8u);
    EXPECT_EQ(offsetof(SigContext, eflags), REG_EFL * 8u);
    EXPECT_EQ(offsetof(SigContext, cs), REG_CSGSFS * 8u);
    EXPECT_EQ(offsetof(SigContext, err), REG_ERR * 8u);
    EXPECT_EQ(offsetof(SigContext, trapno), REG_TRAPNO * 8u);
    EXPECT_EQ(offsetof(SigContext, oldmask), REG_OLDMASK * 8u);
    EXPECT_EQ(offsetof(SigContext, cr2), REG_CR2 * 8u);
    EXPECT_EQ(offsetof(SigContext, fpstate), NGREG * 8u);
    EXPECT_EQ(offsetof(UContext, uc_mcontext), offsetof(ucontext_t, uc_mcontext));
    EXPECT_EQ(offsetof(UContext, uc_sigmask), offsetof(ucontext_t, uc_sigmask));
    EXPECT_EQ(offsetof(UContext, uc_stack), offsetof(ucontext_t, uc_stack));
}

TEST(SignalFrame, Placement) {
    using kiln::sys::KernelStack;
    using kiln::sys::place_frame;
    const KernelStack none = {0, kiln::sys::kSsDisable, 0, 0};
    for (uint64_t sp : {0x7fffffffe000ull, 0x7fffffffe008ull, 0x7fffffffdff3ull}) {
        for (uint64_t fp : {512ull + 0, 2696ull + 4, 832ull + 4}) {
            auto at = place_frame(sp, none, true, fp);
            EXPECT_EQ((at.frame + 8) % 16, 0u);  // as if called: rsp+8 16-aligned
            EXPECT_EQ(at.fpstate % 64, 0u);
            EXPECT_GE(at.fpstate, at.frame + sizeof(kiln::sys::RtSigFrame));
            EXPECT_LE(at.fpstate + fp, sp - 128);  // the red zone is left alone
        }
    }
    const KernelStack alt = {0x10000, 0, 0, 0x8000};
    auto on_alt = place_frame(0x7fffffffe000, alt, true, 1024);
    EXPECT_TRUE(kiln::sys::on_stack(alt, on_alt.frame));
    EXPECT_LE(on_alt.fpstate + 1024, 0x18000u);
    // Already on the alternate stack: the next frame nests below sp.
    auto nested = place_frame(on_alt.frame, alt, true, 1024);
    EXPECT_LT(nested.fpstate + 1024, on_alt.frame - 127);
    // SA_ONSTACK not asked for: the ordinary stack.
    EXPECT_FALSE(kiln::sys::on_stack(alt, place_frame(0x7fffffffe000, alt, false, 1024).frame));
}

// A syscall cut short by a signal (Linux arch/x86/kernel/signal.c,
// handle_signal and the no-handler path).
TEST(SignalFrame, RestartDecision) {
    using namespace kiln::sys;
    using R = SyscallRestart;
    EXPECT_EQ(restart_decision(-4, true, 0), R::kKeep);  // a plain EINTR stays
    EXPECT_EQ(restart_decision(5, false, 0), R::kKeep);
    EXPECT_EQ(restart_decision(kErestartsys, true, 0), R::kEintr);
    EXPECT_EQ(restart_decision(kErestartsys, true, kSaRestart), R::kRestart);
    EXPECT_EQ(restart_decision(kErestartsys, false, 0), R::kRestart);
    EXPECT_EQ(restart_decision(kErestartnohand, true, kSaRestart), R::kEintr);
    EXPECT_EQ(restart_decision(kErestartnohand, false, 0), R::kRestart);
    EXPECT_EQ(restart_decision(kErestartnointr, true, 0), R::kRestart);
    EXPECT_EQ(restart_decision(kErestartRestartblock, true, kSaRestart), R::kEintr);
}

TEST(Utsname, Fields) {
    NewUtsname u;
    memset(&u, 0xaa, sizeof(u));
    fill_utsname(&u, nullptr, 0);
    EXPECT_STREQ(u.sysname, "Linux");
    EXPECT_STREQ(u.nodename, "kiln");
    EXPECT_STREQ(u.release, kUtsRelease);
    EXPECT_STREQ(u.machine, "x86_64");
    EXPECT_STREQ(u.domainname, "(none)");
    EXPECT_EQ(strncmp(u.version, "#1", 2), 0);
    // No stale bytes after each terminator.
    const char* bytes = reinterpret_cast<const char*>(&u);
    for (size_t f = 0; f < 6; f++) {
        const char* field = bytes + f * kUtsFieldLen;
        for (size_t i = strlen(field); i < kUtsFieldLen; i++) EXPECT_EQ(field[i], 0);
    }
    EXPECT_EQ(offsetof(NewUtsname, machine), 4 * 65u);
}

TEST(Utsname, Hostname) {
    NewUtsname u;
    fill_utsname(&u, "web-1 trailing", 5);
    EXPECT_STREQ(u.nodename, "web-1");
    std::string long_name(100, 'h');
    fill_utsname(&u, long_name.data(), long_name.size());
    EXPECT_EQ(strlen(u.nodename), kHostNameMax);
}

// ---- getrandom(2) ----

struct FakeUser {
    std::vector<uint8_t> mem;
    size_t fault_at = SIZE_MAX;  // copies reaching this offset fail
    size_t copies = 0;
};

TEST(Getrandom, Flags) {
    EXPECT_TRUE(check_getrandom_flags(0).ok());
    EXPECT_TRUE(check_getrandom_flags(kGrndNonblock).ok());
    EXPECT_TRUE(check_getrandom_flags(kGrndRandom | kGrndNonblock).ok());
    EXPECT_TRUE(check_getrandom_flags(kGrndInsecure).ok());
    EXPECT_EQ(check_getrandom_flags(kGrndInsecure | kGrndRandom).error(), Errno(EINVAL));
    EXPECT_EQ(check_getrandom_flags(8).error(), Errno(EINVAL));
}

Result<size_t> run(FakeUser& u, size_t len) {
    uint8_t counter = 0;
    return getrandom_chunked(
        0, len,
        [&](void* buf, size_t n) {
            for (size_t i = 0; i < n; i++) static_cast<uint8_t*>(buf)[i] = ++counter;
        },
        [&](uint64_t dst, const void* src, size_t n) -> Result<void> {
            u.copies++;
            if (dst + n > u.fault_at || dst + n > u.mem.size()) return Error(Errno::kEFAULT);
            memcpy(u.mem.data() + dst, src, n);
            return {};
        });
}

TEST(Getrandom, ChunksCoverTheBuffer) {
    FakeUser u{std::vector<uint8_t>(1000)};
    EXPECT_EQ(run(u, 1000).value(), 1000u);
    EXPECT_EQ(u.copies, (1000 + kGetrandomChunk - 1) / kGetrandomChunk);
    for (size_t i = 0; i < 1000; i++) ASSERT_EQ(u.mem[i], uint8_t(i + 1)) << i;
    FakeUser empty{std::vector<uint8_t>(0)};
    EXPECT_EQ(run(empty, 0).value(), 0u);
    EXPECT_EQ(empty.copies, 0u);
}

TEST(Getrandom, FaultPartWayReturnsWhatArrived) {
    FakeUser u{std::vector<uint8_t>(1000)};
    u.fault_at = 600;
    EXPECT_EQ(run(u, 1000).value(), 2 * kGetrandomChunk);
    FakeUser bad{std::vector<uint8_t>(1000)};
    bad.fault_at = 0;
    EXPECT_EQ(run(bad, 8).error(), Errno(EFAULT));
}

}  // namespace
