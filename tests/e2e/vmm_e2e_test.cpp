// kiln-vmm end to end: the binary run as a user runs it, against tiny test
// guests (tests/e2e/guests/) and malformed inputs. Every set-up error must end
// with status 125 and a message that names the problem; guest outcomes map to
// the statuses of lib/abi/boot.h.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <fstream>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include "process.h"
#include "skip.h"

namespace {

constexpr int kStatusGuestCrashed = 114;
constexpr int kStatusMonitorError = 125;

using kiln::test::RunResult;

std::string slurp(const std::string& path) { return kiln::test::read_file(path); }

// The scratch directory must be reachable by `nobody` for the permission test.
std::string temp_dir() {
    static std::string dir = [] {
        std::string d = kiln::test::scratch_dir();
        chmod(d.c_str(), 0755);
        return d;
    }();
    return dir;
}

std::string write_file(const std::string& name, const std::string& data, mode_t mode = 0644) {
    std::string path = temp_dir() + "/" + name;
    unlink(path.c_str());
    std::ofstream(path, std::ios::binary) << data;
    chmod(path.c_str(), mode);
    return path;
}

RunResult run_vmm(const std::vector<std::string>& args, const kiln::test::RunOptions& opts = {}) {
    std::vector<std::string> argv = {KILN_VMM_PATH};
    argv.insert(argv.end(), args.begin(), args.end());
    return kiln::test::run(argv, opts);
}

// Expects a monitor error: status 125 and every fragment in the message.
void expect_error(const RunResult& r, std::initializer_list<const char*> fragments) {
    EXPECT_EQ(r.status, kStatusMonitorError) << r.err;
    for (const char* f : fragments) EXPECT_NE(r.err.find(f), std::string::npos) << r.err;
}

// A minimal ELF64 x86-64 executable with one PT_LOAD at 1 MiB and no notes.
std::string elf_without_notes() {
    std::string f(0x200, '\0');
    auto put = [&](size_t off, uint64_t v, int n) { memcpy(&f[off], &v, n); };
    memcpy(&f[0], "\x7f" "ELF\x02\x01\x01", 7);
    put(16, 2, 2);        // ET_EXEC
    put(18, 62, 2);       // EM_X86_64
    put(20, 1, 4);
    put(24, 0x100000, 8); // e_entry (not used by kiln-vmm)
    put(32, 64, 8);       // e_phoff
    put(52, 64, 2);
    put(54, 56, 2);
    put(56, 1, 2);
    put(64, 1, 4);        // PT_LOAD
    put(68, 5, 4);
    put(72, 0x100, 8);    // p_offset
    put(80, 0x100000, 8);
    put(88, 0x100000, 8);
    put(96, 0x10, 8);
    put(104, 0x10, 8);
    f[0x100] = '\xf4';    // hlt
    return f;
}

// ---- set-up errors (no KVM needed) ----------------------------------------

TEST(VmmErrors, KernelNotFound) {
    expect_error(run_vmm({"/nonexistent/kernel.elf"}), {"not found", "/nonexistent/kernel.elf"});
}

TEST(VmmErrors, KernelUnreadable) {
    std::string k = write_file("unreadable.elf", "x", 0000);
    expect_error(run_vmm({k}, {{}, true}), {"cannot open kernel", "readable"});
}

TEST(VmmErrors, NotAnElf) {
    std::string k = write_file("text.elf", "#!/bin/sh\necho this is not a kernel\n");
    expect_error(run_vmm({k}), {"not an x86-64 ELF"});
}

TEST(VmmErrors, ElfWithoutEntryNote) {
    std::string k = write_file("nonotes.elf", elf_without_notes());
    expect_error(run_vmm({k}), {"no usable entry point", "Kiln", "PVH"});
}

TEST(VmmErrors, MemUnparsable) {
    expect_error(run_vmm({"--mem", "lots", KILN_GUEST_exit42}), {"--mem", "not a size"});
    expect_error(run_vmm({"--mem", "64X", KILN_GUEST_exit42}), {"not a size"});
}

TEST(VmmErrors, MemTooSmall) {
    expect_error(run_vmm({"--mem", "8M", KILN_GUEST_exit42}), {"below the minimum", "16M"});
}

TEST(VmmErrors, MemTooLarge) {
    expect_error(run_vmm({"--mem", "65G", KILN_GUEST_exit42}), {"above the maximum", "64G"});
    uint64_t ram = uint64_t(sysconf(_SC_PHYS_PAGES)) * uint64_t(sysconf(_SC_PAGESIZE));
    if (ram + (1ull << 30) <= (64ull << 30)) {
        std::string more = std::to_string((ram >> 30) + 1) + "G";
        expect_error(run_vmm({"--mem", more, KILN_GUEST_exit42}), {"RAM"});
    }
}

TEST(VmmErrors, InitrdUnreadable) {
    expect_error(run_vmm({"--initrd", "/nonexistent/initrd.cpio", KILN_GUEST_exit42}),
                 {"cannot open initrd", "/nonexistent/initrd.cpio"});
}

TEST(VmmErrors, InitrdTooBig) {
    std::string path = write_file("big.initrd", "");
    ASSERT_EQ(truncate(path.c_str(), 80ll << 20), 0);  // sparse: costs no disk
    expect_error(run_vmm({"--mem", "64M", "--initrd", path, KILN_GUEST_exit42}),
                 {"does not fit", "--mem"});
}

TEST(VmmErrors, SecondInitrdDoesNotFit) {
    // Each fits alone; together they do not.
    std::string a = write_file("half-a.initrd", "");
    std::string b = write_file("half-b.initrd", "");
    ASSERT_EQ(truncate(a.c_str(), 40ll << 20), 0);
    ASSERT_EQ(truncate(b.c_str(), 40ll << 20), 0);
    expect_error(run_vmm({"--mem", "64M", "--initrd", a, "--initrd", b, KILN_GUEST_exit42}),
                 {"does not fit", "half-b.initrd", "number 2 of 2", "--mem"});
}

TEST(VmmErrors, TooManyInitrds) {
    std::string p = write_file("one.initrd", "x");
    std::vector<std::string> args;
    for (int i = 0; i < 9; ++i) args.insert(args.end(), {"--initrd", p});
    args.push_back(KILN_GUEST_exit42);
    expect_error(run_vmm(args), {"--initrd given more than 8 times"});
}

TEST(VmmErrors, CmdlineTooLong) {
    expect_error(run_vmm({"--cmdline", std::string(5000, 'a'), KILN_GUEST_exit42}),
                 {"--cmdline", "4095"});
    // Short enough alone, too long once the virtio device is appended.
    expect_error(run_vmm({"--cmdline", std::string(4080, 'a'), KILN_GUEST_exit42}),
                 {"--cmdline is too long"});
}

TEST(VmmErrors, KvmDeviceMissing) {
    expect_error(run_vmm({KILN_GUEST_exit42}, {{{"KILN_KVM_DEVICE", "/nonexistent/kvm"}}}),
                 {"/nonexistent/kvm not found", "load the kvm module", "machine with KVM"});
}

TEST(VmmErrors, KvmDevicePermissionDenied) {
    std::string dev = write_file("kvm-denied", "", 0600);
    std::string kernel = write_file("exit42.elf", slurp(KILN_GUEST_exit42), 0644);
    if (geteuid() == 0) chown(dev.c_str(), 0, 0);
    expect_error(run_vmm({kernel}, {{{"KILN_KVM_DEVICE", dev}}, true}),
                 {"permission denied", "kvm group", "root"});
}

TEST(VmmErrors, KvmDeviceNotKvm) {
    expect_error(run_vmm({KILN_GUEST_exit42}, {{{"KILN_KVM_DEVICE", "/dev/null"}}}),
                 {"not a usable KVM device"});
}

TEST(VmmErrors, UnknownOptionAndNoKernel) {
    expect_error(run_vmm({"--frobnicate", KILN_GUEST_exit42}), {"unknown option"});
    expect_error(run_vmm({}), {"no kernel given", "usage"});
}

// ---- guests (KVM needed) ----------------------------------------------------

TEST(VmmGuest, ExitPortStatusAndEntryState) {
    REQUIRE_KVM();
    RunResult r = run_vmm({KILN_GUEST_exit42});
    EXPECT_EQ(r.status, 42) << r.err;
}

TEST(VmmGuest, PvhEntry) {
    REQUIRE_KVM();
    RunResult r = run_vmm({KILN_GUEST_pvh32});
    EXPECT_EQ(r.status, 43) << r.err;
}

TEST(VmmGuest, TripleFault) {
    REQUIRE_KVM();
    RunResult r = run_vmm({KILN_GUEST_triple_fault});
    EXPECT_EQ(r.status, kStatusGuestCrashed) << r.err;
    EXPECT_NE(r.err.find("guest triple-faulted (kernel crash before its fault handler was ready)"),
              std::string::npos)
        << r.err;
    EXPECT_NE(r.err.find("rip="), std::string::npos) << r.err;
}

TEST(VmmGuest, Int3WithoutIdtCrashes) {
    REQUIRE_KVM();
    RunResult r = run_vmm({KILN_GUEST_int3});
    EXPECT_EQ(r.status, kStatusGuestCrashed) << r.err;
    EXPECT_NE(r.err.find("rip="), std::string::npos) << r.err;
}

TEST(VmmGuest, UartGoesToStderr) {
    REQUIRE_KVM();
    RunResult r = run_vmm({KILN_GUEST_uart});
    EXPECT_EQ(r.status, 0) << r.err;
    EXPECT_EQ(r.err, "hello from the uart\n");
    EXPECT_EQ(r.out, "");
    RunResult q = run_vmm({"--quiet-log", KILN_GUEST_uart});
    EXPECT_EQ(q.status, 0) << q.err;
    EXPECT_EQ(q.err, "");
}

TEST(VmmGuest, VirtioConsoleGoesToStdout) {
    REQUIRE_KVM();
    RunResult r = run_vmm({KILN_GUEST_console});
    EXPECT_EQ(r.status, 0) << r.err;
    EXPECT_EQ(r.out, "hello from virtio-console\nsecond chain\nthird\n");
    EXPECT_EQ(r.err, "");
}

TEST(VmmGuest, ConsolePortWritesStreamsAndRefusesBadRequests) {
    REQUIRE_KVM();
    RunResult r = run_vmm({KILN_GUEST_console_port});
    EXPECT_EQ(r.status, 42) << r.err;
    EXPECT_EQ(r.out, "port to stdout\n");
    EXPECT_EQ(r.err, "port to stderr\n");
}

TEST(VmmGuest, HostileChainsSetNeedsReset) {
    REQUIRE_KVM();
    RunResult r = run_vmm({KILN_GUEST_console_hostile});
    EXPECT_EQ(r.status, 7) << r.err;
    EXPECT_NE(r.err.find("loop"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("outside guest RAM"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("needs reset"), std::string::npos) << r.err;
    EXPECT_EQ(r.out, "");
}

TEST(VmmGuest, SeccompKillsForbiddenSyscall) {
    REQUIRE_KVM();
    RunResult r = run_vmm({"--debug-seccomp-violation", KILN_GUEST_exit42});
    EXPECT_EQ(r.signal, SIGSYS) << "status " << r.status << ": " << r.err;
}

// The supported-CPUID answer is cached per user and host boot; a damaged or
// foreign cache file is ignored, never trusted.
TEST(VmmGuest, CpuidCacheIsWrittenAndSurvivesDamage) {
    REQUIRE_KVM();
    std::string cache = temp_dir() + "/cpuid-cache";
    mkdir(cache.c_str(), 0700);
    kiln::test::RunOptions opts;
    opts.env = {{"XDG_CACHE_HOME", cache}};
    RunResult first = run_vmm({KILN_GUEST_exit42}, opts);
    EXPECT_EQ(first.status, 42) << first.err;
    std::string file = cache + "/kiln/cpuid";
    struct stat st;
    ASSERT_EQ(stat(file.c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0600u);
    RunResult second = run_vmm({KILN_GUEST_exit42}, opts);
    EXPECT_EQ(second.status, 42) << second.err;
    // Same size, garbage inside: the key no longer matches.
    std::string junk(static_cast<size_t>(st.st_size), 'x');
    write_file("junk", junk);
    ASSERT_EQ(rename((temp_dir() + "/junk").c_str(), file.c_str()), 0);
    RunResult third = run_vmm({KILN_GUEST_exit42}, opts);
    EXPECT_EQ(third.status, 42) << third.err;
    // Truncated: ignored as well.
    ASSERT_EQ(truncate(file.c_str(), 10), 0);
    RunResult fourth = run_vmm({KILN_GUEST_exit42}, opts);
    EXPECT_EQ(fourth.status, 42) << fourth.err;
}

TEST(VmmGuest, StatsLine) {
    REQUIRE_KVM();
    RunResult r = run_vmm({"--stats", KILN_GUEST_uart});
    EXPECT_EQ(r.status, 0) << r.err;
    std::regex line(
        "kiln-vmm stats: exits=[0-9]+ io=[0-9]+ mmio=[0-9]+ hlt=[0-9]+ other=[0-9]+ "
        "vmm_rss_kib=[0-9]+ guest_touched_kib=[1-9][0-9]*\n");
    std::smatch m;
    EXPECT_TRUE(std::regex_search(r.err, m, line)) << r.err;
}

TEST(VmmGuest, InitrdAndLargeMemory) {
    REQUIRE_KVM();
    std::string initrd = write_file("small.initrd", std::string(10000, 'i'));
    RunResult r = run_vmm({"--mem", "4G", "--initrd", initrd, "--cmdline", "quiet",
                           KILN_GUEST_exit42});
    EXPECT_EQ(r.status, 42) << r.err;
}

TEST(VmmGuest, TwoInitrdsAreTwoModulesInOrder) {
    REQUIRE_KVM();
    // Odd sizes, so that page alignment matters.
    std::string a = write_file("a.initrd", "A" + std::string(5000, 'a') + "Z");
    std::string b = write_file("b.initrd", "B" + std::string(123, 'b') + "Z");
    RunResult r = run_vmm({"--initrd", a, "--initrd=" + b, KILN_GUEST_modules});
    EXPECT_EQ(r.status, 44) << r.err;
    // The same files given the other way round fail the order check.
    r = run_vmm({"--initrd", b, "--initrd", a, KILN_GUEST_modules});
    EXPECT_EQ(r.status, 3) << r.err;
}

}  // namespace
