// The same kernel ELF booted under kiln-vmm, QEMU microvm with KVM and QEMU
// with TCG (the ordinary-x86 path): output, exit status, the in-guest
// self-test, and the crash report of a deliberate kernel fault.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "process.h"

namespace {

using kiln::test::RunResult;

constexpr int kStatusKernelPanic = 113;

enum class Monitor { kKilnVmm, kQemuKvm, kQemuTcg };

std::string monitor_name(Monitor m) {
    switch (m) {
        case Monitor::kKilnVmm: return "KilnVmm";
        case Monitor::kQemuKvm: return "QemuKvm";
        case Monitor::kQemuTcg: return "QemuTcg";
    }
    return "?";
}

struct Boot {
    int status = -1;      // the guest's exit status, decoded from QEMU's isa-debug-exit
    std::string console;  // program output (virtio-console)
    std::string log;      // kernel log (UART)
    RunResult raw;
};

class BootTest : public ::testing::TestWithParam<Monitor> {
protected:
    void SetUp() override {
        if (GetParam() != Monitor::kQemuTcg) {
            std::string why = kiln::test::kvm_unavailable_reason();
            if (!why.empty()) GTEST_SKIP() << "SKIPPED: KVM unavailable (" << why << ")";
        }
        if (GetParam() != Monitor::kKilnVmm && !kiln::test::have_program("qemu-system-x86_64")) {
            GTEST_SKIP() << "SKIPPED: qemu-system-x86_64 not installed (scripts/setup installs it)";
        }
    }

    Boot boot(const std::string& cmdline) {
        Boot b;
        if (GetParam() == Monitor::kKilnVmm) {
            b.raw = kiln::test::run({KILN_VMM_PATH, "--cmdline", cmdline, KILN_KERNEL_PATH});
            b.status = b.raw.status;
            b.console = b.raw.out;
            b.log = b.raw.err;
            return b;
        }
        static int n = 0;
        std::string base = kiln::test::scratch_dir() + "/qemu" + std::to_string(n++);
        std::vector<std::string> argv = {
            "qemu-system-x86_64", "-M", "microvm,acpi=off", "-m", "64M", "-nodefaults",
            "-no-user-config", "-display", "none", "-monitor", "none", "-no-reboot",
            "-kernel", KILN_KERNEL_PATH, "-append", cmdline,
            "-serial", "file:" + base + ".log",
            "-device", "isa-debug-exit,iobase=0xf4,iosize=4",
            "-global", "virtio-mmio.force-legacy=false",
            "-device", "virtio-serial-device",
            "-chardev", "file,id=con,path=" + base + ".con",
            "-device", "virtconsole,chardev=con"};
        if (GetParam() == Monitor::kQemuKvm) {
            // kvm-pvm refuses QEMU's IA32_ARCH_CAPABILITIES write.
            argv.insert(argv.end(), {"-accel", "kvm", "-cpu", "host,-arch-capabilities"});
        } else {
            argv.insert(argv.end(), {"-accel", "tcg", "-cpu", "max"});  // SMEP, SMAP, UMIP
        }
        b.raw = kiln::test::run(argv, {.timeout_s = 120});
        // isa-debug-exit: QEMU exits with (V << 1) | 1 for a guest value V.
        b.status = (b.raw.status > 0 && (b.raw.status & 1)) ? b.raw.status >> 1 : -1;
        b.console = kiln::test::read_file(base + ".con");
        b.log = kiln::test::read_file(base + ".log");
        return b;
    }
};

std::string describe(const Boot& b) {
    return "status " + std::to_string(b.raw.status) + (b.raw.timed_out ? " (timed out)" : "") +
           "\n--- console ---\n" + b.console + "\n--- log ---\n" + b.log + "\n--- stderr ---\n" +
           b.raw.err;
}

TEST_P(BootTest, HelloPrintsOnTheConsoleAndExitsZero) {
    Boot b = boot("hello");
    EXPECT_EQ(b.status, 0) << describe(b);
    EXPECT_EQ(b.console, "Hello from the kiln kernel!\n") << describe(b);
    EXPECT_EQ(b.log.find("panic"), std::string::npos) << describe(b);
}

// Under kiln-vmm the console port is the default; the virtio-console
// driver must work there too (QEMU always uses it).
TEST_P(BootTest, HelloThroughVirtioConsole) {
    Boot b = boot("kiln.console=virtio");
    EXPECT_EQ(b.status, 0) << describe(b);
    EXPECT_EQ(b.console, "Hello from the kiln kernel!\n") << describe(b);
}

TEST_P(BootTest, ExitStatusReachesTheHost) {
    Boot b = boot("exit=42");
    EXPECT_EQ(b.status, 42) << describe(b);
}

TEST_P(BootTest, SelfTestPasses) {
    Boot b = boot("selftest");
    EXPECT_EQ(b.status, 0) << describe(b);
    EXPECT_NE(b.console.find("selftest: passed"), std::string::npos) << describe(b);
}

TEST_P(BootTest, PageFaultReportNamesTheFunction) {
    Boot b = boot("crash=pagefault");
    EXPECT_EQ(b.status, kStatusKernelPanic) << describe(b);
    EXPECT_NE(b.log.find("kernel panic: page fault (#PF)"), std::string::npos) << describe(b);
    EXPECT_NE(b.log.find("<kiln::(anonymous namespace)::crash_null_write+0x"), std::string::npos)
        << describe(b);
    EXPECT_NE(b.log.find("cr2 0x0000000000000000 (write to unmapped page, null pointer)"),
              std::string::npos)
        << describe(b);
    EXPECT_NE(b.log.find("backtrace:"), std::string::npos) << describe(b);
    EXPECT_NE(b.log.find("<kiln_main+0x"), std::string::npos) << describe(b);
}

TEST_P(BootTest, InvalidOpcodeReportNamesTheFunction) {
    Boot b = boot("crash=ud");
    EXPECT_EQ(b.status, kStatusKernelPanic) << describe(b);
    EXPECT_NE(b.log.find("kernel panic: invalid opcode (#UD)"), std::string::npos) << describe(b);
    EXPECT_NE(b.log.find("rip 0x"), std::string::npos) << describe(b);
    EXPECT_NE(b.log.find("crash_invalid_opcode+0x"), std::string::npos) << describe(b);
}

TEST_P(BootTest, StackOverflowHitsTheGuardPage) {
    Boot b = boot("crash=stack");
    EXPECT_EQ(b.status, kStatusKernelPanic) << describe(b);
    EXPECT_NE(b.log.find("kernel stack overflow"), std::string::npos) << describe(b);
    EXPECT_NE(b.log.find("crash_stack_overflow"), std::string::npos) << describe(b);
}

// Ring 3 without a loader (the kernel's `usertest` job): two syscalls, then
// ud2, which must end the program as SIGILL with a report.
TEST_P(BootTest, UserModeSyscallsAndFatalSignal) {
    Boot b = boot("usertest kiln.strace");
    // QEMU's isa-debug-exit keeps only 7 bits of the status.
    if (GetParam() == Monitor::kKilnVmm) EXPECT_EQ(b.status, 128 + 4) << describe(b);
    EXPECT_NE(b.log.find("write("), std::string::npos) << describe(b);
    EXPECT_NE(b.log.find("getpid() = "), std::string::npos) << describe(b);
    EXPECT_NE(b.log.find("killed by SIGILL: invalid opcode (#UD) at rip 0x400025"), std::string::npos)
        << describe(b);
    EXPECT_NE(b.log.find("exit status 132"), std::string::npos) << describe(b);
}

// q35: a PC with firmware and no virtio-mmio, so program output falls back
// to the UART. TCG only: under kvm-pvm the firmware's real-mode code is
// emulated and takes seconds.
TEST(QemuQ35, HelloBootsThroughFirmwareAndPvh) {
    if (!kiln::test::have_program("qemu-system-x86_64")) {
        GTEST_SKIP() << "SKIPPED: qemu-system-x86_64 not installed (scripts/setup installs it)";
    }
    RunResult r = kiln::test::run(
        {"qemu-system-x86_64", "-M", "q35", "-accel", "tcg", "-m", "128M", "-nodefaults",
         "-no-user-config", "-display", "none", "-monitor", "none", "-no-reboot", "-kernel",
         KILN_KERNEL_PATH, "-append", "hello", "-serial", "stdio", "-device",
         "isa-debug-exit,iobase=0xf4,iosize=4"},
        {.timeout_s = 120});
    EXPECT_EQ(r.status, 1) << r.out << r.err;  // (0 << 1) | 1
    EXPECT_EQ(r.out, "Hello from the kiln kernel!\n") << r.err;
}

INSTANTIATE_TEST_SUITE_P(Monitors, BootTest,
                         ::testing::Values(Monitor::kKilnVmm, Monitor::kQemuKvm, Monitor::kQemuTcg),
                         [](const auto& info) { return monitor_name(info.param); });

}  // namespace
