// A subset of run_test.cpp's guest programs under QEMU TCG: kiln run with
// qemu-monitor (qemu_monitor.cpp) in kiln-vmm's place (KILN_VMM), so the
// same kernel and images boot on the ordinary x86 path, without KVM, and the
// kernel cannot come to depend on one monitor. `ctest -R Tcg` selects these
// (with boot_test.cpp's QemuTcg boots); about 3 s on 2 cores.
//
// Left to run_test.cpp, because QEMU cannot carry them:
//  - stdout vs stderr and stdin (the program's stderr shares QEMU's virtio
//    console with stdout; stdin is not connected): StdoutStderrAndStdin;
//  - statuses >= 128 (isa-debug-exit reports ((V << 1) | 1) & 0xff):
//    AbortIs134, NullDereferenceIs139WithReport, SignalResethandSecondRaiseKills.
#include <dirent.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "kiln_run.h"

namespace {

using kiln::test::contains;
using kiln::test::describe;
using kiln::test::RunResult;

const std::string kGuest = KILN_GUEST_DIR;

// Processes whose command line mentions `word` (QEMU's names the kernel).
int processes_mentioning(const std::string& word) {
    int n = 0;
    DIR* d = opendir("/proc");
    if (d == nullptr) return 0;
    while (struct dirent* e = readdir(d)) {
        if (e->d_name[0] < '1' || e->d_name[0] > '9') continue;
        std::string cmdline = kiln::test::read_file(std::string("/proc/") + e->d_name + "/cmdline");
        n += contains(cmdline, word);
    }
    closedir(d);
    return n;
}

RunResult tcg_run(const std::vector<std::string>& args, kiln::test::RunOptions opts = {}) {
    opts.env.push_back({"KILN_VMM", KILN_QEMU_MONITOR});
    return kiln::test::kiln_run(args, opts);
}

#define REQUIRE_QEMU()                                           \
    if (!kiln::test::have_program("qemu-system-x86_64"))         \
    GTEST_SKIP() << "SKIPPED: qemu-system-x86_64 not installed " \
                    "(scripts/setup installs it)"

// ---- tests/guest programs -------------------------------------------------------

class TcgGuestProgram : public ::testing::TestWithParam<const char*> {
protected:
    void SetUp() override { REQUIRE_QEMU(); }
    std::string prog(const std::string& name) const {
        return kGuest + "/" + name + "-" + GetParam();
    }
};

std::string variant_name(const ::testing::TestParamInfo<const char*>& info) {
    std::string s = info.param;
    for (char& c : s) {
        if (c == '-') c = '_';
    }
    return s;
}

TEST_P(TcgGuestProgram, ArgsEnvAndExitStatus) {
    RunResult r = tcg_run({"-e", "KILN_TEST=hello world", "-e", "EMPTY=", prog("args_env"),
                           "--exit", "7", "a b", ""});
    EXPECT_EQ(r.status, 7) << describe(r);
    EXPECT_TRUE(contains(r.out, "argc=5\n")) << describe(r);
    EXPECT_TRUE(contains(r.out, "argv[3]=a b\nargv[4]=\n")) << describe(r);
    EXPECT_TRUE(contains(r.out, "KILN_TEST=hello world\n")) << describe(r);
    EXPECT_TRUE(contains(r.out, "HOME=/root\n")) << describe(r);
    EXPECT_TRUE(contains(r.out, "EMPTY=\n")) << describe(r);
    EXPECT_TRUE(contains(r.out, "envc=4\n")) << describe(r);
    RunResult z = tcg_run({prog("args_env"), "--exit", "127"});
    EXPECT_EQ(z.status, 127) << describe(z);  // the largest status QEMU can carry
    EXPECT_TRUE(contains(z.out, "argc=3\n")) << describe(z);
}

TEST_P(TcgGuestProgram, FilesInTmpAndImage) {
    std::string data =
        kiln::test::write_file("image-data.txt", "data from the host\nsecond line\n");
    RunResult r = tcg_run({"--copy", data + ":/data/hello.txt", prog("files"), "/data/hello.txt"});
    EXPECT_EQ(r.status, 0) << describe(r);
    EXPECT_TRUE(contains(r.out, "image file: data from the host\n")) << describe(r);
    EXPECT_TRUE(contains(r.out, "files: ok\n")) << describe(r);
}

TEST_P(TcgGuestProgram, Memory) {
    RunResult r = tcg_run({"--mem", "256M", prog("memory")});
    EXPECT_EQ(r.status, 0) << describe(r);
    EXPECT_EQ(r.out, "memory: ok\n") << describe(r);
}

TEST_P(TcgGuestProgram, ClocksAndSleeps) {
    RunResult r = tcg_run({prog("clocks")});
    EXPECT_EQ(r.status, 0) << describe(r);
    EXPECT_TRUE(contains(r.out, "clocks: ok (10 ms sleep took ")) << describe(r);
}

TEST_P(TcgGuestProgram, Getrandom) {
    RunResult r = tcg_run({prog("random")});
    EXPECT_EQ(r.status, 0) << describe(r);
    EXPECT_EQ(r.out, "random: ok\n") << describe(r);
}

// Pipes, eventfd, timerfd, poll, select and epoll with waits that halt
// until the APIC timer fires (sti; hlt on the ordinary x86 path).
TEST_P(TcgGuestProgram, PipesAndPolling) {
    RunResult r = tcg_run({prog("pipes")});
    EXPECT_EQ(r.status, 0) << describe(r);
    EXPECT_TRUE(contains(r.out, "pipes: all ok\n")) << describe(r);
    RunResult p = tcg_run({prog("polling")});
    EXPECT_EQ(p.status, 0) << describe(p);
    EXPECT_TRUE(contains(p.out, "polling: all ok\n")) << describe(p);
}

// Issue 5: AF_UNIX sockets, and TCP/UDP over the stack's loopback, with
// waits that halt on the ordinary x86 path.
TEST_P(TcgGuestProgram, Sockets) {
    RunResult u = tcg_run({prog("net_unix")});
    EXPECT_EQ(u.status, 0) << describe(u);
    EXPECT_TRUE(contains(u.out, "net_unix: all ok\n")) << describe(u);
    RunResult i = tcg_run({prog("net_inet")});
    EXPECT_EQ(i.status, 0) << describe(i);
    EXPECT_TRUE(contains(i.out, "net_inet: all ok\n")) << describe(i);
}

// Signal handlers on the ordinary x86 path: iretq back to the handler and
// from rt_sigreturn, xsave/xrstor without kvm-pvm, SIGALRM from the APIC
// timer (SA_RESETHAND's 138 is left to run_test.cpp).
TEST_P(TcgGuestProgram, SignalHandlers) {
    RunResult r = tcg_run({prog("signals"), "send", "mask", "nodefer", "segv", "fpe", "altstack",
                           "regs", "skip", "alarm"});
    EXPECT_EQ(r.status, 0) << describe(r);
    EXPECT_EQ(r.out,
              "send: ok\nmask: ok\nnodefer: ok\nsegv: ok\nfpe: ok\naltstack: ok\nregs: ok\n"
              "skip: ok\nalarm: ok\n")
        << describe(r);
}

INSTANTIATE_TEST_SUITE_P(Variants, TcgGuestProgram,
                         ::testing::Values("glibc", "glibc-static", "musl", "musl-static"),
                         variant_name);

class TcgGuestCxx : public TcgGuestProgram {};

// Both streams arrive on the one console here.
TEST_P(TcgGuestCxx, IostreamContainersExceptions) {
    RunResult r = tcg_run({prog("cxx")});
    EXPECT_EQ(r.status, 0) << describe(r);
    EXPECT_TRUE(contains(r.out, "cxx: ok\n")) << describe(r);
    EXPECT_TRUE(contains(r.out, "cxx: stderr ok\n")) << describe(r);
}

INSTANTIATE_TEST_SUITE_P(Variants, TcgGuestCxx, ::testing::Values("glibc", "glibc-static"),
                         variant_name);

// Threads on ordinary x86: TSS.rsp0 and sysret/iretq instead of kvm-pvm's paths.
class TcgGuestThreads : public TcgGuestProgram {};

TEST_P(TcgGuestThreads, MutexCondvarFutureJoinPipePreemption) {
    RunResult r = tcg_run({prog("threads")}, {.timeout_s = 120});
    EXPECT_EQ(r.status, 0) << describe(r);
    EXPECT_TRUE(contains(r.out, "threads: mutex 64x10000 ok\n")) << describe(r);
    EXPECT_TRUE(contains(r.out, "threads: preemption ok\n")) << describe(r);
    EXPECT_TRUE(contains(r.out, "threads: ok\n")) << describe(r);
}

INSTANTIATE_TEST_SUITE_P(Variants, TcgGuestThreads, ::testing::Values("glibc", "glibc-static"),
                         variant_name);

// ---- busybox and Debian's dynamically linked programs -----------------------------

class TcgHostProgram : public ::testing::Test {
protected:
    void SetUp() override { REQUIRE_QEMU(); }
    void need(const std::string& path) {
        if (access(path.c_str(), X_OK) != 0)
            GTEST_SKIP() << "SKIPPED: " << path << " not installed";
    }
};

TEST_F(TcgHostProgram, BusyboxShWithBuiltins) {
    need("/bin/busybox");
    RunResult r = tcg_run({"/bin/busybox", "sh", "-c",
                           "x=5; y=$((x * 8 + 2)); echo \"answer $y\"; for i in 1 2 3; do "
                           "printf '%s,' $i; done; echo; cd /tmp && pwd; exit 3"});
    EXPECT_EQ(r.status, 3) << describe(r);
    EXPECT_EQ(r.out, "answer 42\n1,2,3,\n/tmp\n") << describe(r);
}

TEST_F(TcgHostProgram, Lua) {
    need("/usr/bin/lua5.4");
    RunResult r = tcg_run({"lua5.4", "-e", "print(2^10)"});
    EXPECT_EQ(r.status, 0) << describe(r);
    EXPECT_EQ(r.out, "1024.0\n") << describe(r);
}

TEST_F(TcgHostProgram, Sqlite3) {
    need("/usr/bin/sqlite3");
    RunResult r = tcg_run({"sqlite3", ":memory:", "select 6*7"});
    EXPECT_EQ(r.status, 0) << describe(r);
    EXPECT_EQ(r.out, "42\n") << describe(r);
}

// ---- the wrapper itself --------------------------------------------------------------

// QEMU that cannot start, or ends without a status from the guest, is 125
// with a message, never a made-up guest status.
TEST(TcgMonitor, QemuFailureIs125) {
    const std::string prog = kGuest + "/args_env-musl-static";
    RunResult r = tcg_run({prog}, {.env = {{"KILN_QEMU", "/nonexistent/qemu"}}});
    EXPECT_EQ(r.status, kiln::test::kStatusCannotRun) << describe(r);
    EXPECT_TRUE(contains(r.err, "qemu-monitor: cannot run /nonexistent/qemu: No such file"))
        << describe(r);

    // QEMU's own error ("qemu-system-x86_64: ...", status 1 like a guest
    // exit 0), and a guest that resets instead of exiting (status 0).
    std::string fail = kiln::test::write_file(
        "qemu-fails", "#!/bin/sh\necho 'qemu-system-x86_64: -m 64M: no luck' >&2\nexit 1\n", 0755);
    r = tcg_run({prog}, {.env = {{"KILN_QEMU", fail}}});
    EXPECT_EQ(r.status, kiln::test::kStatusCannotRun) << describe(r);
    EXPECT_TRUE(contains(r.err, "qemu-system-x86_64: -m 64M: no luck\n")) << describe(r);
    EXPECT_TRUE(contains(r.err, "qemu-monitor: QEMU failed (status 1)")) << describe(r);
    std::string reset = kiln::test::write_file("qemu-resets", "#!/bin/sh\nexit 0\n", 0755);
    r = tcg_run({prog}, {.env = {{"KILN_QEMU", reset}}});
    EXPECT_EQ(r.status, kiln::test::kStatusCannotRun) << describe(r);
    EXPECT_TRUE(contains(r.err, "without an exit status from the guest")) << describe(r);
}

// kiln passes SIGTERM on to its monitor; the stand-in passes it on to QEMU
// and ends by it, so kiln answers 128+15. The runner's timeout (SIGKILL to
// the whole process group) takes QEMU along too.
class TcgMonitorSignals : public ::testing::Test {
protected:
    void SetUp() override {
        REQUIRE_QEMU();
        if (access("/bin/busybox", X_OK) != 0) GTEST_SKIP() << "SKIPPED: busybox not installed";
        // A path of its own, so this test's QEMU can be told from others.
        kernel_ = kiln::test::scratch_dir() + "/" +
                  ::testing::UnitTest::GetInstance()->current_test_info()->name() + "-kernel";
        ASSERT_EQ(symlink(KILN_KERNEL_PATH, kernel_.c_str()), 0);
    }
    std::string kernel_;
};

TEST_F(TcgMonitorSignals, SigtermEndsQemu) {
    RunResult r = kiln::test::run(
        {"sh", "-c", "\"$@\" & k=$!; sleep 1; kill -TERM $k; wait $k; echo status=$?", "sh",
         KILN_PATH, "run", "/bin/busybox", "sleep", "60"},
        {.env = {{"KILN_VMM", KILN_QEMU_MONITOR},
                 {"KILN_KERNEL", kernel_},
                 {"XDG_CACHE_HOME", kiln::test::cache_dir()}},
         .timeout_s = 20});
    EXPECT_EQ(r.out, "status=143\n") << describe(r);
    EXPECT_EQ(processes_mentioning(kernel_), 0);
}

TEST_F(TcgMonitorSignals, KilledOnTimeoutTakesQemuAlong) {
    RunResult r = tcg_run({"/bin/busybox", "sleep", "60"},
                          {.env = {{"KILN_KERNEL", kernel_}}, .timeout_s = 2});
    EXPECT_TRUE(r.timed_out) << describe(r);
    usleep(200 * 1000);  // the kernel's SIGKILL takes effect asynchronously
    EXPECT_EQ(processes_mentioning(kernel_), 0);
}

}  // namespace
