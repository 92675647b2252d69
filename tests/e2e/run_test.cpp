// `kiln run` end to end: the CLI's errors (no KVM needed: they come before
// any boot), the image cache, and real programs -- tests/guest/ in every
// build variant, busybox applets, and Debian's python3, lua5.4 and sqlite3
// -- run as a user runs them.
#include <dirent.h>
#include <signal.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <string>
#include <vector>

#include "kiln_run.h"
#include "skip.h"

namespace {

using kiln::test::cache_dir;
using kiln::test::contains;
using kiln::test::describe;
using kiln::test::kiln_run;
using kiln::test::kStatusCannotRun;
using kiln::test::RunResult;
using kiln::test::write_file;

const std::string kGuest = KILN_GUEST_DIR;

void expect_error(const RunResult& r, std::initializer_list<std::string> fragments) {
    EXPECT_EQ(r.status, kStatusCannotRun) << describe(r);
    for (const auto& f : fragments) EXPECT_NE(r.err.find(f), std::string::npos) << describe(r);
    EXPECT_EQ(r.out, "");
}

// ---- CLI errors and help -----------------------------------------------------

TEST(RunCli, Help) {
    RunResult r = kiln::test::run({KILN_PATH, "--help"});
    EXPECT_EQ(r.status, 0);
    EXPECT_TRUE(contains(r.out, "usage: kiln COMMAND")) << r.out;
    r = kiln::test::run({KILN_PATH, "run", "--help"});
    EXPECT_EQ(r.status, 0);
    EXPECT_TRUE(contains(r.out, "usage: kiln run [OPTIONS] PROGRAM [ARGS...]")) << r.out;
    EXPECT_TRUE(contains(r.out, "--copy SRC:DST")) << r.out;
}

TEST(RunCli, UnknownCommandAndOption) {
    expect_error(kiln::test::run({KILN_PATH, "frobnicate"}), {"unknown command 'frobnicate'"});
    expect_error(kiln_run({"--frobnicate", "/bin/true"}), {"unknown option '--frobnicate'"});
    expect_error(kiln_run({}), {"no PROGRAM given", "usage"});
    expect_error(kiln_run({"--mem", "lots", "/bin/true"}), {"--mem 'lots' is not a size"});
    expect_error(kiln_run({"--copy", "nocolon", "/bin/true"}), {"SRC:DST"});
}

TEST(RunCli, MissingProgram) {
    expect_error(kiln_run({"/nonexistent/prog"}), {"/nonexistent/prog", "No such file"});
    expect_error(kiln_run({"kiln-no-such-program-anywhere"}),
                 {"'kiln-no-such-program-anywhere' not found in $PATH"});
}

TEST(RunCli, NotAnElf) {
    std::string text = write_file("text-prog", "just text\n", 0755);
    expect_error(kiln_run({text}), {text, "is not an ELF executable"});
    std::string script = write_file("script-prog", "#!/bin/sh\necho hi\n", 0755);
    expect_error(kiln_run({script}), {script, "is a script"});
    std::string noexec = write_file("noexec-prog",
                                    "\x7f"
                                    "ELF",
                                    0644);
    expect_error(kiln_run({noexec}), {noexec, "not executable"});
    expect_error(kiln_run({kiln::test::scratch_dir()}), {"is a directory"});
    // An ELF that is not x86-64: a 32-bit header.
    std::string elf32 = write_file("elf32",
                                   std::string("\x7f"
                                               "ELF\x01\x01\x01",
                                               7) +
                                       std::string(100, '\0'),
                                   0755);
    expect_error(kiln_run({elf32}), {elf32, "not an x86-64 ELF"});
}

TEST(RunCli, MissingLibraryIsNamed) {
    std::string prog = kGuest + "/needs-missing";
    expect_error(kiln_run({prog}), {prog, "shared libraries not found",
                                    "libkilnmissing.so (needed by " + prog + ")"});
}

TEST(RunCli, MissingCopySource) {
    expect_error(kiln_run({"--copy", "/nonexistent/src:/x", kGuest + "/args_env-musl-static"}),
                 {"--copy /nonexistent/src", "No such file"});
}

TEST(RunCli, MissingMonitorOrKernel) {
    expect_error(kiln_run({kGuest + "/args_env-musl-static"},
                          {.env = {{"KILN_VMM", "/nonexistent/kiln-vmm"}}}),
                 {"cannot find kiln-vmm", "KILN_VMM"});
    expect_error(kiln_run({kGuest + "/args_env-musl-static"},
                          {.env = {{"KILN_KERNEL", "/nonexistent/kernel"}}}),
                 {"cannot find the kiln kernel", "KILN_KERNEL"});
}

// ---- the contract with kiln-vmm (a stand-in monitor; no KVM needed) ------------

// A shell script in kiln-vmm's place: prints its arguments one per line,
// then the per-run archive's argv and env (the second --initrd), and exits
// with $FAKE_STATUS.
std::string fake_vmm() {
    return write_file("fake-vmm",
                      "#!/bin/sh\n"
                      "for a in \"$@\"; do echo \"arg:$a\"; done\n"
                      "rundata=$8\n"
                      "dir=$(mktemp -d)\n"
                      "(cd $dir && cpio -id --quiet < \"$rundata\")\n"
                      "tr '\\0' '|' < $dir/.kiln/argv; echo\n"
                      "tr '\\0' '|' < $dir/.kiln/env; echo\n"
                      "rm -rf $dir\n"
                      "exit ${FAKE_STATUS:-0}\n",
                      0755);
}

TEST(RunMonitor, CommandLineImagesAndRunData) {
    if (!kiln::test::have_program("cpio")) GTEST_SKIP() << "cpio not installed";
    std::string cache = cache_dir("cache-monitor");
    std::string prog = kGuest + "/args_env-musl-static";
    RunResult r = kiln_run({"-e", "A=1", "--strace", prog, "x y", "--z"},
                           {.env = {{"KILN_VMM", fake_vmm()},
                                    {"KILN_KERNEL", "/etc/hostname"},
                                    {"XDG_CACHE_HOME", cache},
                                    {"FAKE_STATUS", "17"}}});
    EXPECT_EQ(r.status, 17) << describe(r);
    std::string image_prefix = "arg:" + cache + "/kiln/images/";
    std::vector<std::string> want = {
        "arg:--mem\narg:64M\n",
        "arg:--cmdline\narg:kiln.strace quiet\n",
        "arg:--initrd\n" + image_prefix,
        ".cpio\narg:--initrd\narg:/proc/self/fd/",
        "arg:/etc/hostname\n",
        prog + "|x y|--z|\n",
        "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin|"
        "HOME=/root|A=1|\n"};
    for (const auto& w : want) EXPECT_TRUE(contains(r.out, w)) << w << "\n" << describe(r);
    EXPECT_EQ(r.err, "");

    // Without --strace the command line is just "quiet"; --mem is passed on.
    r = kiln_run({"--mem", "300M", prog}, {.env = {{"KILN_VMM", fake_vmm()},
                                                   {"KILN_KERNEL", "/etc/hostname"},
                                                   {"XDG_CACHE_HOME", cache}}});
    EXPECT_EQ(r.status, 0) << describe(r);
    EXPECT_TRUE(contains(r.out, "arg:--mem\narg:300M\narg:--cmdline\narg:quiet\n")) << describe(r);
}

// The network options reach kiln-vmm: --net user unless told otherwise,
// each -p in order, --mac; bad ones stop kiln before it packs anything.
TEST(RunMonitor, NetworkOptionsArePassedOn) {
    std::string cache = cache_dir("cache-monitor");
    std::string prog = kGuest + "/args_env-musl-static";
    kiln::test::RunOptions opts = {.env = {{"KILN_VMM", fake_vmm()},
                                           {"KILN_KERNEL", "/etc/hostname"},
                                           {"XDG_CACHE_HOME", cache}}};
    RunResult r = kiln_run({prog}, opts);
    EXPECT_EQ(r.status, 0) << describe(r);
    EXPECT_TRUE(contains(r.out, "arg:--net\narg:user\narg:/etc/hostname\n")) << describe(r);
    r = kiln_run({"-p", "8080:80", "--publish=127.0.0.1:5353:53/udp", "--mac",
                  "52:54:00:00:00:01", prog}, opts);
    EXPECT_EQ(r.status, 0) << describe(r);
    EXPECT_TRUE(contains(r.out, "arg:--net\narg:user\narg:-p\narg:8080:80\narg:-p\n"
                                "arg:127.0.0.1:5353:53/udp\narg:--mac\narg:52:54:00:00:00:01\n"))
        << describe(r);
    r = kiln_run({"--net", "tap:tap0", prog}, opts);
    EXPECT_TRUE(contains(r.out, "arg:--net\narg:tap:tap0\narg:/etc/hostname\n")) << describe(r);
    r = kiln_run({"--net", "none", "-p", "8080:80", prog}, opts);
    EXPECT_EQ(r.status, kStatusCannotRun) << describe(r);
    EXPECT_TRUE(contains(r.err, "-p publishes ports through user-mode networking")) << describe(r);
    r = kiln_run({"-p", "8080", prog}, opts);
    EXPECT_EQ(r.status, kStatusCannotRun) << describe(r);
    EXPECT_TRUE(contains(r.err, "no host port")) << describe(r);
}

// kiln waits for the monitor and passes SIGTERM (and SIGINT, SIGHUP,
// SIGQUIT) on to it: here the stand-in signals kiln and exits 42 when the
// signal comes back to it.
// kiln becomes the monitor (exec): the monitor's parent is whoever ran
// `kiln run`, so signals sent to kiln (Ctrl-C) are the monitor's own.
TEST(RunMonitor, KilnBecomesTheMonitor) {
    std::string vmm = write_file("fake-vmm-parent", "#!/bin/sh\necho $PPID\nexit 42\n", 0755);
    RunResult r = kiln_run({kGuest + "/args_env-musl-static"},
                           {.env = {{"KILN_VMM", vmm}, {"KILN_KERNEL", "/etc/hostname"}}});
    EXPECT_EQ(r.status, 42) << describe(r);
    EXPECT_EQ(r.out, std::to_string(getpid()) + "\n") << describe(r);
}

// A monitor killed by a signal is `kiln run` killed by it (a shell shows 137).
TEST(RunMonitor, SignalDeathIsKilnsOwn) {
    std::string vmm = write_file("fake-vmm-kill", "#!/bin/sh\nkill -KILL $$\n", 0755);
    RunResult r = kiln_run({kGuest + "/args_env-musl-static"},
                           {.env = {{"KILN_VMM", vmm}, {"KILN_KERNEL", "/etc/hostname"}}});
    EXPECT_EQ(r.signal, 9) << describe(r);
}

// ---- the image cache -----------------------------------------------------------

struct CachedImage {
    std::string path;
    struct stat st = {};
};

std::vector<CachedImage> images(const std::string& cache) {
    std::vector<CachedImage> out;
    std::string dir = cache + "/kiln/images";
    DIR* d = opendir(dir.c_str());
    if (d == nullptr) return out;
    while (struct dirent* e = readdir(d)) {
        std::string n = e->d_name;
        if (n.size() > 5 && n.substr(n.size() - 5) == ".cpio") {
            CachedImage i{dir + "/" + n};
            stat(i.path.c_str(), &i.st);
            out.push_back(i);
        }
    }
    closedir(d);
    return out;
}

// Packing happens before the boot, so this needs no KVM: whatever the VM
// does, the image must be written once and then reused.
TEST(RunCache, SecondRunDoesNotRepack) {
    std::string cache = cache_dir("cache-reuse");
    std::string prog = write_file("cached-prog", "", 0755);
    {
        std::ifstream src(kGuest + "/args_env-glibc", std::ios::binary);
        std::ofstream(prog, std::ios::binary) << src.rdbuf();
    }
    kiln::test::RunOptions o{.env = {{"XDG_CACHE_HOME", cache}}};
    kiln_run({prog}, o);
    auto first = images(cache);
    ASSERT_EQ(first.size(), 1u);
    struct stat dir;
    ASSERT_EQ(stat((cache + "/kiln").c_str(), &dir), 0);
    EXPECT_EQ(dir.st_mode & 0777, 0700u);
    // The image holds the program, its loader and libc.
    std::string listing = kiln::test::run({"sh", "-c", "cpio -it < " + first[0].path}).out;
    if (kiln::test::have_program("cpio")) {
        EXPECT_TRUE(contains(listing, prog.substr(1))) << listing;
        EXPECT_TRUE(contains(listing, "ld-linux-x86-64.so.2")) << listing;
        EXPECT_TRUE(contains(listing, "libc.so.6")) << listing;
    }

    kiln_run({prog, "other", "args"}, o);  // arguments are per run: same image
    auto second = images(cache);
    ASSERT_EQ(second.size(), 1u);
    EXPECT_EQ(second[0].path, first[0].path);
    EXPECT_EQ(second[0].st.st_ino, first[0].st.st_ino);
    EXPECT_EQ(second[0].st.st_mtim.tv_sec, first[0].st.st_mtim.tv_sec);
    EXPECT_EQ(second[0].st.st_mtim.tv_nsec, first[0].st.st_mtim.tv_nsec);

    // A changed program is a new image; a --copy list is a new image too.
    struct timespec times[2] = {{0, UTIME_OMIT}, {12345, 0}};
    ASSERT_EQ(utimensat(AT_FDCWD, prog.c_str(), times, 0), 0);
    kiln_run({prog}, o);
    EXPECT_EQ(images(cache).size(), 2u);
    std::string data = write_file("cache-data", "x");
    kiln_run({"--copy", data + ":/data", prog}, o);
    EXPECT_EQ(images(cache).size(), 3u);
    kiln_run({"--copy", data + ":/data", prog}, o);
    EXPECT_EQ(images(cache).size(), 3u);
    // No temporary files are left behind.
    std::string left =
        kiln::test::run({"sh", "-c", "ls -A " + cache + "/kiln/images | grep tmp"}).out;
    EXPECT_EQ(left, "");
}

// ---- guest programs --------------------------------------------------------------

class GuestProgram : public ::testing::TestWithParam<const char*> {
protected:
    void SetUp() override { REQUIRE_KVM(); }
    std::string prog(const std::string& name) const {
        return kGuest + "/" + name + "-" + GetParam();
    }
    std::string variant() const { return GetParam(); }
};

std::string variant_name(const ::testing::TestParamInfo<const char*>& info) {
    std::string s = info.param;
    for (char& c : s) {
        if (c == '-') c = '_';
    }
    return s;
}

#define C_VARIANTS ::testing::Values("glibc", "glibc-static", "musl", "musl-static")

// The first program booted: needs the loader (static and PT_INTERP), the
// initial stack from /.kiln/argv and /.kiln/env, write and exit_group.
// kernel/fs initrd root.
TEST_P(GuestProgram, ArgsEnvAndExitStatus) {
    RunResult r = kiln_run({"-e", "KILN_TEST=hello world", "-e", "EMPTY=", prog("args_env"),
                            "--exit", "7", "a b", ""});
    EXPECT_EQ(r.status, 7) << describe(r);
    EXPECT_TRUE(contains(r.out, "argc=5\n")) << describe(r);
    EXPECT_TRUE(contains(r.out, "argv[3]=a b\nargv[4]=\n")) << describe(r);
    EXPECT_TRUE(contains(r.out, "KILN_TEST=hello world\n")) << describe(r);
    EXPECT_TRUE(contains(r.out, "HOME=/root\n")) << describe(r);
    EXPECT_TRUE(
        contains(r.out, "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\n"))
        << describe(r);
    EXPECT_TRUE(contains(r.out, "EMPTY=\n")) << describe(r);
    EXPECT_TRUE(contains(r.out, "envc=4\n")) << describe(r);
    RunResult z = kiln_run({prog("args_env")});
    EXPECT_EQ(z.status, 0) << describe(z);
    EXPECT_TRUE(contains(z.out, "argc=1\n")) << describe(z);
}

TEST_P(GuestProgram, StdoutStderrAndStdin) {
    std::string input;
    unsigned long sum = 0;
    for (int i = 0; i < 3000; ++i) input += "line " + std::to_string(i) + "\n";
    for (unsigned char c : input) sum += c;
    std::string in = write_file("stdin-" + variant(), input);
    RunResult r = kiln_run({prog("streams")}, {.stdin_path = in});
    EXPECT_EQ(r.status, 0) << describe(r);
    EXPECT_EQ(r.out, "to stdout\nstdin: " + std::to_string(input.size()) +
                         " bytes, 3000 lines, sum " + std::to_string(sum) + "\n")
        << describe(r);
    EXPECT_TRUE(contains(r.err, "to stderr\n")) << describe(r);
}

TEST_P(GuestProgram, FilesInTmpAndImage) {
    std::string data = write_file("image-data.txt", "data from the host\nsecond line\n");
    RunResult r = kiln_run({"--copy", data + ":/data/hello.txt", prog("files"), "/data/hello.txt"});
    EXPECT_EQ(r.status, 0) << describe(r);
    EXPECT_TRUE(contains(r.out, "image file: data from the host\n")) << describe(r);
    EXPECT_TRUE(contains(r.out, "files: ok\n")) << describe(r);
}

TEST_P(GuestProgram, Memory) {
    RunResult r = kiln_run({"--mem", "256M", prog("memory")});
    EXPECT_EQ(r.status, 0) << describe(r);
    EXPECT_EQ(r.out, "memory: ok\n") << describe(r);
}

TEST_P(GuestProgram, ClocksAndSleeps) {
    RunResult r = kiln_run({prog("clocks")});
    EXPECT_EQ(r.status, 0) << describe(r);
    EXPECT_TRUE(contains(r.out, "clocks: ok (10 ms sleep took ")) << describe(r);
    printf("  [%s] %s", variant().c_str(), r.out.c_str());
}

TEST_P(GuestProgram, PipesEventfdTimerfd) {
    RunResult r = kiln_run({prog("pipes")});
    EXPECT_EQ(r.status, 0) << describe(r);
    EXPECT_TRUE(contains(r.out, "pipes: all ok\n")) << describe(r);
    printf("  [%s] %s", variant().c_str(), r.out.c_str());
}

// One thread and nothing that could ever write: kiln says so (EDEADLK and
// a log line) instead of hanging the VM.
TEST_P(GuestProgram, BlockingReadThatCannotEndIsADeadlock) {
    RunResult r = kiln_run({prog("pipes"), "deadlock"});
    EXPECT_EQ(r.status, 0) << describe(r);
    EXPECT_TRUE(contains(r.out, "deadlock: read=-1 errno=Resource deadlock")) << describe(r);
    EXPECT_TRUE(contains(r.err, "deadlock")) << describe(r);
}

// The only timer that could end the wait sends a signal the process
// blocks: once it has fired, nothing can, and the wait says so.
TEST_P(GuestProgram, BlockingReadWithOnlyABlockedAlarmIsADeadlock) {
    RunResult r = kiln_run({prog("pipes"), "deadlock-blocked-alarm"});
    EXPECT_EQ(r.status, 0) << describe(r);
    EXPECT_TRUE(contains(r.out, "deadlock: read=-1 errno=Resource deadlock")) << describe(r);
}

TEST_P(GuestProgram, WriteWithoutReaderDiesOfSigpipe) {
    RunResult r = kiln_run({prog("pipes"), "sigpipe"});
    EXPECT_EQ(r.status, 141) << describe(r);
    EXPECT_FALSE(contains(r.out, "should have died")) << describe(r);
}

TEST_P(GuestProgram, PollSelectEpoll) {
    RunResult r = kiln_run({prog("polling")});
    EXPECT_EQ(r.status, 0) << describe(r);
    EXPECT_TRUE(contains(r.out, "polling: all ok\n")) << describe(r);
    printf("  [%s] %s", variant().c_str(), r.out.c_str());
}

// Issue 5: AF_UNIX sockets (socketpair, a path server with a client
// thread, abstract names, SCM_RIGHTS, readiness, options, bad input).
TEST_P(GuestProgram, NetUnixSockets) {
    RunResult r = kiln_run({prog("net_unix")});
    EXPECT_EQ(r.status, 0) << describe(r);
    EXPECT_TRUE(contains(r.out, "net_unix: all ok\n")) << describe(r);
}

// Issue 5: TCP and UDP over the guest's loopback through kiln's stack
// (echo with a client thread, non-blocking connect, readiness, shutdown,
// EPIPE, a refused connect, UDP, 1 MiB with a checksum, IPv6, options).
TEST_P(GuestProgram, NetInetLoopback) {
    RunResult r = kiln_run({prog("net_inet")});
    EXPECT_EQ(r.status, 0) << describe(r);
    EXPECT_TRUE(contains(r.out, "net_inet: all ok\n")) << describe(r);
}

// Random arguments to every socket call (bad pointers, lengths, flags):
// errors, never a crash or a hang.
TEST_P(GuestProgram, NetHostileSocketCalls) {
    for (const char* seed : {"1", "2"}) {
        RunResult r = kiln_run({prog("net_hostile"), seed});
        EXPECT_EQ(r.status, 0) << describe(r);
        EXPECT_TRUE(contains(r.out, "net_hostile: 20000 calls survived\n")) << describe(r);
    }
}

TEST_P(GuestProgram, NetWriteToClosedSocketDiesOfSigpipe) {
    RunResult r = kiln_run({prog("net_unix"), "sigpipe"});
    EXPECT_EQ(r.status, 141) << describe(r);
    EXPECT_FALSE(contains(r.out, "should have died")) << describe(r);
}

TEST_P(GuestProgram, Getrandom) {
    RunResult r = kiln_run({prog("random")});
    EXPECT_EQ(r.status, 0) << describe(r);
    EXPECT_EQ(r.out, "random: ok\n") << describe(r);
}

TEST_P(GuestProgram, AbortIs134) {
    RunResult r = kiln_run({prog("abort")});
    EXPECT_EQ(r.status, 134) << describe(r);
    EXPECT_EQ(r.out, "about to abort\n") << describe(r);
}

TEST_P(GuestProgram, AbortRunsTheSigabrtHandlerThenIs134) {
    RunResult r = kiln_run({prog("signals"), "aborthandler"});
    EXPECT_EQ(r.status, 134) << describe(r);
    EXPECT_EQ(r.out, "aborthandler: handler ran\n") << describe(r);
    EXPECT_TRUE(contains(r.err, "killed by SIGABRT")) << describe(r);
}

TEST_P(GuestProgram, NullDereferenceIs139WithReport) {
    RunResult r = kiln_run({prog("segv")});
    EXPECT_EQ(r.status, 139) << describe(r);
    EXPECT_EQ(r.out, "about to fault\n") << describe(r);
    EXPECT_TRUE(contains(r.err, "killed by SIGSEGV")) << describe(r);
    EXPECT_TRUE(contains(r.err, "fault address 0x0000000000000000 (write to")) << describe(r);
    EXPECT_TRUE(contains(r.err, "<main+0x")) << describe(r);  // symbols from the binary
    EXPECT_TRUE(contains(r.err, "instruction bytes at rip: ")) << describe(r);
}

// Signal delivery to handlers (issue #4): tests/guest/signals.c runs one
// case per run and prints "<case>: ok" only when every check held.
TEST_P(GuestProgram, SignalHandlersRaiseTgkillKill) {
    RunResult r = kiln_run({prog("signals"), "send"});
    EXPECT_EQ(r.status, 0) << describe(r);
    EXPECT_EQ(r.out, "send: ok\n") << describe(r);
}

TEST_P(GuestProgram, SignalMaskDuringHandlerPendingAndSigsuspend) {
    RunResult r = kiln_run({prog("signals"), "mask"});
    EXPECT_EQ(r.status, 0) << describe(r);
    EXPECT_EQ(r.out, "mask: ok\n") << describe(r);
}

TEST_P(GuestProgram, SignalNodefer) {
    RunResult r = kiln_run({prog("signals"), "nodefer"});
    EXPECT_EQ(r.status, 0) << describe(r);
    EXPECT_EQ(r.out, "nodefer: ok\n") << describe(r);
}

TEST_P(GuestProgram, SignalResethandSecondRaiseKills) {
    RunResult r = kiln_run({prog("signals"), "resethand"});
    EXPECT_EQ(r.status, 128 + 10) << describe(r);
    EXPECT_EQ(r.out, "resethand: handler ran once\n") << describe(r);
    EXPECT_TRUE(contains(r.err, "killed by SIGUSR1")) << describe(r);
}

TEST_P(GuestProgram, SignalSegvHandlerRecoversWithSiglongjmp) {
    RunResult r = kiln_run({prog("signals"), "segv"});
    EXPECT_EQ(r.status, 0) << describe(r);
    EXPECT_EQ(r.out, "segv: ok\n") << describe(r);
}

TEST_P(GuestProgram, SignalFpeHandlerForDivisionByZero) {
    RunResult r = kiln_run({prog("signals"), "fpe"});
    EXPECT_EQ(r.status, 0) << describe(r);
    EXPECT_EQ(r.out, "fpe: ok\n") << describe(r);
}

TEST_P(GuestProgram, SignalAltstackOnstack) {
    RunResult r = kiln_run({prog("signals"), "altstack"});
    EXPECT_EQ(r.status, 0) << describe(r);
    EXPECT_EQ(r.out, "altstack: ok\n") << describe(r);
}

TEST_P(GuestProgram, SignalHandlerPreservesRegistersAndFpu) {
    RunResult r = kiln_run({prog("signals"), "regs"});
    EXPECT_EQ(r.status, 0) << describe(r);
    EXPECT_EQ(r.out, "regs: ok\n") << describe(r);
}

TEST_P(GuestProgram, SignalHandlerEditsContextForSigillAndSigtrap) {
    RunResult r = kiln_run({prog("signals"), "skip"});
    EXPECT_EQ(r.status, 0) << describe(r);
    EXPECT_EQ(r.out, "skip: ok\n") << describe(r);
}

TEST_P(GuestProgram, SignalFrameThatCannotBeWrittenIsSigsegv) {
    RunResult r = kiln_run({prog("signals"), "badstack"});
    EXPECT_EQ(r.status, 139) << describe(r);
    EXPECT_EQ(r.out, "badstack: faulting\n") << describe(r);
    EXPECT_TRUE(contains(r.err, "killed by SIGSEGV")) << describe(r);
    EXPECT_TRUE(contains(r.err, "signal frame could not be written")) << describe(r);
    EXPECT_TRUE(contains(r.err, "fault address 0x0000000000000008")) << describe(r);
}

TEST_P(GuestProgram, SignalRealtimeQueueAndSigqueue) {
    RunResult r = kiln_run({prog("signals"), "rtqueue"});
    EXPECT_EQ(r.status, 0) << describe(r);
    EXPECT_EQ(r.out, "rtqueue: ok\n") << describe(r);
}

TEST_P(GuestProgram, SignalStackOverflowReachesHandlerOnAltstack) {
    RunResult r = kiln_run({prog("signals"), "overflow"});
    EXPECT_EQ(r.status, 0) << describe(r);
    EXPECT_EQ(r.out, "overflow: ok\n") << describe(r);
}

// rt_sigreturn from a handler that rewrote its frame (STYLE.md: security
// tests attack the boundary): kernel segments, IOPL and NT are not taken; a
// kernel RIP or an FPU image that xrstor would refuse ends the program with
// SIGSEGV, never the kernel.
TEST_P(GuestProgram, SignalReturnKeepsUserSegmentsAndIopl) {
    RunResult r = kiln_run({prog("signals"), "hostile"});
    EXPECT_EQ(r.status, 0) << describe(r);
    EXPECT_EQ(r.out, "hostile: ok\n") << describe(r);
}

TEST_P(GuestProgram, SignalReturnToKernelAddressIsSigsegv) {
    RunResult r = kiln_run({prog("signals"), "kernelrip"});
    EXPECT_EQ(r.status, 139) << describe(r);
    EXPECT_EQ(r.out, "hostile: returning\n") << describe(r);
    EXPECT_TRUE(contains(r.err, "rt_sigreturn to a kernel address")) << describe(r);
}

TEST_P(GuestProgram, SignalReturnWithInvalidFpuStateIsSigsegv) {
    RunResult r = kiln_run({prog("signals"), "badfpu"});
    EXPECT_EQ(r.status, 139) << describe(r);
    EXPECT_EQ(r.out, "hostile: returning\n") << describe(r);
    EXPECT_TRUE(contains(r.err, "rt_sigreturn found an invalid FPU state")) << describe(r);
}

TEST_P(GuestProgram, SignalReturnWithInvalidXsaveHeaderIsSigsegv) {
    RunResult r = kiln_run({prog("signals"), "badxsave"});
    EXPECT_EQ(r.status, 139) << describe(r);
    EXPECT_EQ(r.out, "hostile: returning\n") << describe(r);
    EXPECT_TRUE(contains(r.err, "rt_sigreturn found an invalid FPU state")) << describe(r);
}

// pause() with host signals forwarded has something to wait for: SIGTERM
// sent to kiln run reaches the handler (from pid 0, outside the VM).
TEST_P(GuestProgram, SignalPauseWaitsForAHostSignal) {
    RunResult r = kiln_run({prog("signals"), "pausehost"},
                           {.timeout_s = 20, .signal = SIGTERM, .signal_after = "pausing\n"});
    EXPECT_EQ(r.status, 42) << describe(r);
    EXPECT_EQ(r.out, "pausing\ngot signal 15 from pid 0\n") << describe(r);
}

TEST_P(GuestProgram, SignalAltstackAutodisarm) {
    RunResult r = kiln_run({prog("signals"), "autodisarm"});
    EXPECT_EQ(r.status, 0) << describe(r);
    EXPECT_EQ(r.out, "autodisarm: ok\n") << describe(r);
}

TEST_P(GuestProgram, SignalAlarmEndsPauseSigsuspendAndNanosleep) {
    RunResult r = kiln_run({prog("signals"), "alarm"});
    EXPECT_EQ(r.status, 0) << describe(r);
    EXPECT_EQ(r.out, "alarm: ok\n") << describe(r);
}

TEST_P(GuestProgram, SignalAlarmDefaultActionIs142) {
    RunResult r = kiln_run({prog("signals"), "alarmdefault"});
    EXPECT_EQ(r.status, 128 + 14) << describe(r);
    EXPECT_EQ(r.out, "alarmdefault: waiting\n") << describe(r);
    EXPECT_TRUE(contains(r.err, "killed by SIGALRM")) << describe(r);
}

// Signals sent to `kiln run` (which becomes kiln-vmm) reach the program:
// a handler runs (out of a blocking sleep), or the default action ends it.
TEST_P(GuestProgram, HostSignalReachesTheHandler) {
    RunResult r = kiln_run({prog("host_signal"), "handle"},
                           {.timeout_s = 20, .signal = SIGTERM, .signal_after = "sleeping\n"});
    EXPECT_EQ(r.status, 42) << describe(r);
    EXPECT_EQ(r.out, "sleeping\ngot signal 15\n") << describe(r);
}

// epoll_pwait(-1) on a pipe nobody writes to is no deadlock when the host
// can still send a signal: it waits, and SIGTERM's handler ends it (EINTR).
TEST_P(GuestProgram, HostSignalEndsEpollWait) {
    RunResult r = kiln_run({prog("polling"), "host-signal"},
                           {.timeout_s = 20, .signal = SIGTERM, .signal_after = "waiting\n"});
    EXPECT_EQ(r.status, 0) << describe(r);
    EXPECT_EQ(r.out, "waiting\nepoll_pwait: -1 Interrupted system call\n") << describe(r);
}

TEST_P(GuestProgram, HostSignalDefaultActionEndsTheProgram) {
    RunResult r = kiln_run({prog("host_signal")},
                           {.timeout_s = 20, .signal = SIGINT, .signal_after = "sleeping\n"});
    EXPECT_EQ(r.status, 128 + SIGINT) << describe(r);
    EXPECT_EQ(r.out, "sleeping\n") << describe(r);
    EXPECT_TRUE(contains(r.err, "killed by SIGINT")) << describe(r);
}

// Issue 4: futex timeouts, WAKE_BITSET, CMP_REQUEUE and WAKE_OP between
// threads (musl's and glibc's pthread_create).
TEST_P(GuestProgram, FutexBetweenThreads) {
    RunResult r = kiln_run({prog("futex")}, {.timeout_s = 30});
    EXPECT_EQ(r.status, 0) << describe(r);
    EXPECT_EQ(r.out, "futex: ok\n") << describe(r);
}

INSTANTIATE_TEST_SUITE_P(Variants, GuestProgram, C_VARIANTS, variant_name);

class GuestCxx : public GuestProgram {};

TEST_P(GuestCxx, IostreamContainersExceptions) {
    RunResult r = kiln_run({prog("cxx")});
    EXPECT_EQ(r.status, 0) << describe(r);
    EXPECT_EQ(r.out, "cxx: ok\n") << describe(r);
    EXPECT_TRUE(contains(r.err, "cxx: stderr ok\n")) << describe(r);
}

INSTANTIATE_TEST_SUITE_P(Variants, GuestCxx, ::testing::Values("glibc", "glibc-static"),
                         variant_name);

// Issue 4: threads on one vCPU — std::thread/mutex/condition_variable/future,
// 8 and 64 threads contending on a mutex with a checked total, pthread_join,
// detached threads, a pipe between threads and a time slice ending a spin.
class GuestThreads : public GuestProgram {};

TEST_P(GuestThreads, MutexCondvarFutureJoinPipePreemption) {
    RunResult r = kiln_run({prog("threads")}, {.timeout_s = 60});
    EXPECT_EQ(r.status, 0) << describe(r);
    EXPECT_EQ(r.out,
              "threads: tids ok\n"
              "threads: mutex 8x20000 ok\n"
              "threads: mutex 64x10000 ok\n"
              "threads: condvar and future ok\n"
              "threads: join and detach ok\n"
              "threads: pipe ok\n"
              "threads: preemption ok\n"
              "threads: raise ok\n"
              "threads: tgkill to one thread ok\n"
              "threads: ok\n")
        << describe(r);
}

TEST_P(GuestThreads, MainThreadExitsFirst) {
    RunResult r = kiln_run({prog("threads"), "mainexit"}, {.timeout_s = 30});
    EXPECT_EQ(r.status, 7) << describe(r);
    EXPECT_EQ(r.out, "threads: worker outlived main\n") << describe(r);
}

INSTANTIATE_TEST_SUITE_P(Variants, GuestThreads, ::testing::Values("glibc", "glibc-static"),
                         variant_name);

// ---- busybox ------------------------------------------------------------------------

class Busybox : public ::testing::Test {
protected:
    void SetUp() override {
        REQUIRE_KVM();
        busybox_ = "/bin/busybox";
        if (access(busybox_.c_str(), X_OK) != 0) {
            GTEST_SKIP()
                << "SKIPPED: busybox not installed (scripts/setup installs busybox-static)";
        }
        data_ = write_file("bb-data.txt", "pear\napple\nfig\nbanana\n");
    }
    RunResult bb(const std::vector<std::string>& args) {
        std::vector<std::string> a = {"--copy", data_ + ":/data/fruit.txt", busybox_};
        a.insert(a.end(), args.begin(), args.end());
        return kiln_run(a);
    }
    std::string busybox_, data_;
};

TEST_F(Busybox, Echo) {
    RunResult r = bb({"echo", "hello", "from busybox"});
    EXPECT_EQ(r.status, 0) << describe(r);
    EXPECT_EQ(r.out, "hello from busybox\n") << describe(r);
}

// An idle program costs no tick: a 0.3 s sleep is one halt and one timer
// interrupt in the guest (kiln run --stats), and a handful of VM exits.
TEST_F(Busybox, IdleSleepTakesNoTick) {
    RunResult r = kiln_run({"--stats", "--net", "none", busybox_, "sleep", "0.3"});
    EXPECT_EQ(r.status, 0) << describe(r);
    unsigned long ms = 0, halts = 0, irqs = 0, exits = 0;
    const size_t k = r.err.find("kiln stats:");
    const size_t v = r.err.find("kiln-vmm stats:");
    ASSERT_NE(k, std::string::npos) << describe(r);
    ASSERT_NE(v, std::string::npos) << describe(r);
    ASSERT_EQ(sscanf(r.err.c_str() + k, "kiln stats: uptime %lu ms, %lu halts, %lu timer interrupts",
                     &ms, &halts, &irqs), 3)
        << describe(r);
    ASSERT_EQ(sscanf(r.err.c_str() + v, "kiln-vmm stats: exits=%lu", &exits), 1) << describe(r);
    EXPECT_GE(ms, 300u) << describe(r);
    EXPECT_LE(halts, 2u) << describe(r);
    EXPECT_LE(irqs, 2u) << describe(r);
    EXPECT_LE(exits, 6u) << describe(r);
}

TEST_F(Busybox, Cat) {
    RunResult r = bb({"cat", "/data/fruit.txt"});
    EXPECT_EQ(r.status, 0) << describe(r);
    EXPECT_EQ(r.out, "pear\napple\nfig\nbanana\n") << describe(r);
}

TEST_F(Busybox, LsLong) {
    RunResult r = bb({"ls", "-l", "/data"});
    EXPECT_EQ(r.status, 0) << describe(r);
    EXPECT_TRUE(contains(r.out, "-rw-r--r--")) << describe(r);
    EXPECT_TRUE(contains(r.out, " 22 ")) << describe(r);  // "pear\napple\nfig\nbanana\n"
    EXPECT_TRUE(contains(r.out, "fruit.txt\n")) << describe(r);
}

TEST_F(Busybox, Wc) {
    RunResult r = bb({"wc", "-l", "/data/fruit.txt"});
    EXPECT_EQ(r.status, 0) << describe(r);
    EXPECT_EQ(r.out, "4 /data/fruit.txt\n") << describe(r);
}

TEST_F(Busybox, Sort) {
    RunResult r = bb({"sort", "/data/fruit.txt"});
    EXPECT_EQ(r.status, 0) << describe(r);
    EXPECT_EQ(r.out, "apple\nbanana\nfig\npear\n") << describe(r);
}

TEST_F(Busybox, Sha256sum) {
    RunResult host = kiln::test::run({"sha256sum", data_});
    RunResult r = bb({"sha256sum", "/data/fruit.txt"});
    EXPECT_EQ(r.status, 0) << describe(r);
    ASSERT_GE(host.out.size(), 64u);
    EXPECT_EQ(r.out, host.out.substr(0, 64) + "  /data/fruit.txt\n") << describe(r);
}

// No fork needed: gzip's output comes back to the host, and a host-made
// .gz goes in for gunzip.
TEST_F(Busybox, GzipGunzipRoundTrip) {
    RunResult z = bb({"gzip", "-c", "/data/fruit.txt"});
    EXPECT_EQ(z.status, 0) << describe(z);
    std::string gz = write_file("bb-fruit.gz", z.out);
    RunResult host = kiln::test::run({"gunzip", "-c", gz});
    EXPECT_EQ(host.out, "pear\napple\nfig\nbanana\n") << describe(host);
    RunResult u =
        kiln_run({"--copy", gz + ":/data/fruit.gz", busybox_, "gunzip", "-c", "/data/fruit.gz"});
    EXPECT_EQ(u.status, 0) << describe(u);
    EXPECT_EQ(u.out, "pear\napple\nfig\nbanana\n") << describe(u);
}

TEST_F(Busybox, ShWithBuiltins) {
    RunResult r =
        bb({"sh", "-c",
            "x=5; y=$((x * 8 + 2)); echo \"answer $y\"; for i in 1 2 3; do printf '%s,' $i; "
            "done; echo; test -n \"$HOME\" && echo home=$HOME; cd /data && pwd; exit 3"});
    EXPECT_EQ(r.status, 3) << describe(r);
    EXPECT_EQ(r.out, "answer 42\n1,2,3,\nhome=/root\n/data\n") << describe(r);
}

// ---- Debian's dynamically linked interpreters ----------------------------------------

class DebianProgram : public ::testing::Test {
protected:
    void SetUp() override { REQUIRE_KVM(); }
    void need(const std::string& path) {
        if (access(path.c_str(), X_OK) != 0)
            GTEST_SKIP() << "SKIPPED: " << path << " not installed";
    }
    // The host python's standard library (it travels with --copy): the
    // directory holding `module`, or "" when none does.
    static std::string python_stdlib(const std::string& module) {
        std::string lib;
        for (const char* v : {"3.13", "3.12", "3.11", "3.10"}) {
            std::string d = std::string("/usr/lib/python") + v;
            if (access((d + "/" + module).c_str(), F_OK) == 0) lib = d;
        }
        return lib;
    }
};

// Ctrl-C on `kiln run python3` is a KeyboardInterrupt inside Python, as
// natively: the host's SIGINT reaches the program out of time.sleep().
TEST_F(DebianProgram, Python3HostSigintIsKeyboardInterrupt) {
    need("/usr/bin/python3");
    std::string lib = python_stdlib("json");
    ASSERT_FALSE(lib.empty()) << "no python standard library under /usr/lib";
    RunResult r = kiln_run({"--copy", lib + ":" + lib, "/usr/bin/python3", "-c",
                            "import time\ntry:\n    print('sleeping', flush=True)\n"
                            "    time.sleep(30)\nexcept KeyboardInterrupt:\n"
                            "    print('KeyboardInterrupt')\n"},
                           {.timeout_s = 120, .signal = SIGINT, .signal_after = "sleeping\n"});
    EXPECT_EQ(r.status, 0) << describe(r);
    EXPECT_EQ(r.out, "sleeping\nKeyboardInterrupt\n") << describe(r);
}

TEST_F(DebianProgram, Python3Json) {
    need("/usr/bin/python3");
    std::string lib = python_stdlib("json");
    ASSERT_FALSE(lib.empty()) << "no python standard library under /usr/lib";
    RunResult r = kiln_run({"--copy", lib + ":" + lib, "/usr/bin/python3", "-c",
                            "import json; print(json.dumps({\"a\": [1, 2]}))"},
                           {.timeout_s = 120});
    EXPECT_EQ(r.status, 0) << describe(r);
    EXPECT_EQ(r.out, "{\"a\": [1, 2]}\n") << describe(r);
}

// Python's select module and selectors over a pipe: epoll edge-triggered,
// a selector timeout, hang-up once the writer closes, poll, os.eventfd.
TEST_F(DebianProgram, Python3SelectOverPipes) {
    need("/usr/bin/python3");
    std::string lib = python_stdlib("selectors.py");
    ASSERT_FALSE(lib.empty()) << "no python standard library under /usr/lib";
    const char* script =
        "import os, select, selectors, time\n"
        "r, w = os.pipe()\n"
        "ep = select.epoll()\n"
        "ep.register(r, select.EPOLLIN | select.EPOLLET)\n"
        "os.write(w, b'hi')\n"
        "print('epoll', ep.poll(1) == [(r, select.EPOLLIN)], ep.poll(0))\n"
        "print('read', os.read(r, 10))\n"
        "sel = selectors.DefaultSelector()\n"
        "sel.register(r, selectors.EVENT_READ)\n"
        "t = time.monotonic()\n"
        "print('empty', sel.select(0.05), time.monotonic() - t >= 0.05)\n"
        "os.close(w)\n"
        "print('hup', [(k.fd == r, ev) for k, ev in sel.select(1)], os.read(r, 1))\n"
        "print('poll', select.poll().poll(0))\n"
        "print('eventfd', os.eventfd_read(os.eventfd(3)))\n";
    RunResult r = kiln_run({"--copy", lib + ":" + lib, "/usr/bin/python3", "-c", script},
                           {.timeout_s = 120});
    EXPECT_EQ(r.status, 0) << describe(r);
    EXPECT_EQ(r.out,
              "epoll True []\nread b'hi'\nempty [] True\nhup [(True, 1)] b''\npoll []\neventfd 3\n")
        << describe(r);
}

// Python's signal module over kiln's delivery: a handler for a signal the
// process sends itself, SIGALRM from setitimer during time.sleep (resumed
// after the handler, PEP 475), a handler's exception out of a sleep, and
// SIGINT as KeyboardInterrupt.
TEST_F(DebianProgram, Python3SignalHandlers) {
    need("/usr/bin/python3");
    std::string lib = python_stdlib("signal.py");
    ASSERT_FALSE(lib.empty()) << "no python standard library under /usr/lib";
    const char* script =
        "import os, signal, time\n"
        "got = []\n"
        "signal.signal(signal.SIGUSR1, lambda s, f: got.append(s))\n"
        "os.kill(os.getpid(), signal.SIGUSR1)\n"
        "print('kill', got)\n"
        "signal.signal(signal.SIGALRM, lambda s, f: got.append(s))\n"
        "signal.setitimer(signal.ITIMER_REAL, 0.05)\n"
        "t = time.monotonic()\n"
        "time.sleep(0.2)\n"
        "print('sleep', got, time.monotonic() - t >= 0.2)\n"
        "def boom(s, f):\n"
        "    raise KeyboardInterrupt\n"
        "signal.signal(signal.SIGALRM, boom)\n"
        "signal.setitimer(signal.ITIMER_REAL, 0.05)\n"
        "try:\n"
        "    time.sleep(5)\n"
        "    print('sleep returned')\n"
        "except KeyboardInterrupt:\n"
        "    print('sleep interrupted')\n"
        "try:\n"
        "    os.kill(os.getpid(), signal.SIGINT)\n"
        "except KeyboardInterrupt:\n"
        "    print('SIGINT KeyboardInterrupt')\n";
    RunResult r = kiln_run({"--copy", lib + ":" + lib, "/usr/bin/python3", "-c", script},
                           {.timeout_s = 120});
    EXPECT_EQ(r.status, 0) << describe(r);
    EXPECT_EQ(r.out,
              "kill [10]\nsleep [10, 14] True\nsleep interrupted\nSIGINT KeyboardInterrupt\n")
        << describe(r);
}

// Python threads: a ThreadPoolExecutor of 8 workers summing ranges, and a
// threading.Thread that sleeps while the main thread waits on an Event (the
// sleeper must not hold the vCPU: Thread.start itself waits for it).
TEST_F(DebianProgram, Python3Threads) {
    need("/usr/bin/python3");
    std::string lib = python_stdlib("concurrent");
    ASSERT_FALSE(lib.empty()) << "no python standard library under /usr/lib";
    const char* script =
        "import concurrent.futures, threading, time\n"
        "def part(i):\n"
        "    return sum(range(i * 100000, (i + 1) * 100000))\n"
        "with concurrent.futures.ThreadPoolExecutor(max_workers=8) as ex:\n"
        "    print('pool', sum(ex.map(part, range(32))))\n"
        "ev = threading.Event()\n"
        "def sleeper():\n"
        "    time.sleep(0.2)\n"
        "    ev.set()\n"
        "t = threading.Thread(target=sleeper)\n"
        "t0 = time.monotonic()\n"
        "t.start()\n"
        "print('started', time.monotonic() - t0 < 0.2, flush=True)\n"
        "print('event', ev.wait(10), time.monotonic() - t0 >= 0.2)\n"
        "t.join()\n"
        "print('joined', t.is_alive(), threading.active_count())\n";
    RunResult r = kiln_run({"--copy", lib + ":" + lib, "/usr/bin/python3", "-c", script},
                           {.timeout_s = 120});
    EXPECT_EQ(r.status, 0) << describe(r);
    // sum(range(3200000))
    EXPECT_EQ(r.out, "pool 5119998400000\nstarted True\nevent True True\njoined False 1\n")
        << describe(r);
}

// (The prints that tell the test to send the signal sit inside the try:
// the signal may land before the write returns.)
// python3 with threads and a SIGINT handler behaves as natively: Ctrl-C
// reaches the main thread while it waits on an Event (a futex with no
// timeout) and another thread sleeps; the handler runs in the main thread,
// and KeyboardInterrupt then ends the wait there.
TEST_F(DebianProgram, Python3ThreadsHostSigint) {
    need("/usr/bin/python3");
    std::string lib = python_stdlib("threading.py");
    ASSERT_FALSE(lib.empty()) << "no python standard library under /usr/lib";
    const char* script =
        "import signal, threading, time\n"
        "seen = []\n"
        "def on_int(sig, frame):\n"
        "    seen.append(threading.current_thread() is threading.main_thread())\n"
        "    raise KeyboardInterrupt\n"
        "signal.signal(signal.SIGINT, on_int)\n"
        "stop = threading.Event()\n"
        "def sleeper():\n"
        "    while not stop.is_set():\n"
        "        time.sleep(0.05)\n"
        "t = threading.Thread(target=sleeper)\n"
        "t.start()\n"
        "try:\n"
        "    print('waiting', flush=True)\n"
        "    threading.Event().wait()\n"
        "except KeyboardInterrupt:\n"
        "    print('interrupted in main', seen)\n"
        "stop.set()\n"
        "t.join()\n"
        "print('joined', t.is_alive())\n";
    RunResult r = kiln_run({"--copy", lib + ":" + lib, "/usr/bin/python3", "-c", script},
                           {.timeout_s = 60, .signal = SIGINT, .signal_after = "waiting\n"});
    EXPECT_EQ(r.status, 0) << describe(r);
    EXPECT_EQ(r.out, "waiting\ninterrupted in main [True]\njoined False\n") << describe(r);
}

TEST_F(DebianProgram, Lua) {
    need("/usr/bin/lua5.4");
    RunResult r = kiln_run({"lua5.4", "-e", "print(2^10)"});
    EXPECT_EQ(r.status, 0) << describe(r);
    EXPECT_EQ(r.out, "1024.0\n") << describe(r);
}

TEST_F(DebianProgram, Sqlite3) {
    need("/usr/bin/sqlite3");
    RunResult r = kiln_run({"sqlite3", ":memory:", "select 6*7"});
    EXPECT_EQ(r.status, 0) << describe(r);
    EXPECT_EQ(r.out, "42\n") << describe(r);
}

}  // namespace
