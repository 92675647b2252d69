// The built-in jobs the kernel runs until applications can be loaded: the
// hello example, the in-guest CPU benchmark, self-tests and deliberate
// crashes for the crash-report tests.
#include "abi/boot.h"
#include "arch/x86_64/arch.h"
#include "arch/x86_64/clock.h"
#include "arch/x86_64/cpu.h"
#include "arch/x86_64/lapic.h"
#include "arch/x86_64/paging.h"
#include "linux/syscall.h"
#include "dev/console.h"
#include "kernel.h"
#include "kiln/cmdline.h"
#include "kiln/format.h"
#include "klog.h"
#include "mm/memory.h"
#include "sched/timer.h"

namespace kiln {
namespace {

void out(const char* fmt, ...) __attribute__((format(printf, 1, 2)));
void out(const char* fmt, ...) {
    char buf[256];
    va_list ap;
    va_start(ap, fmt);
    size_t n = vformat(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    dev::console_write(buf, n < sizeof(buf) ? n : sizeof(buf) - 1);
}

// Deliberate faults for the crash-report tests; noinline so the report
// names these functions.
[[gnu::noinline]] void crash_null_write() {
    volatile uint64_t* p = nullptr;
    asm volatile("" : "+r"(p));  // hide the null from the optimiser
    *p = 0xdead;
}
[[gnu::noinline]] void crash_invalid_opcode() {
    asm volatile("ud2");
}
// Unbounded recursion: runs into the guard page below the boot stack.
[[gnu::noinline]] uint64_t crash_stack_overflow(uint64_t depth) {
    volatile uint8_t frame[512];
    frame[0] = uint8_t(depth);
    asm volatile("" ::"r"(frame) : "memory");
    return crash_stack_overflow(depth + 1) + frame[0];
}

// The CPU check of bench/boot: the same loop the host runs (bench/cpuloop_host.cpp).
[[noreturn]] void cpuloop() {
    constexpr uint64_t kIterations = 100000000;
    uint64_t t0 = arch::monotonic_ns();
    uint64_t n = kIterations;
    asm volatile("1: dec %0; jnz 1b" : "+r"(n));
    uint64_t t1 = arch::monotonic_ns();
    out("cpuloop: %lu iterations in %lu ns\n", kIterations, t1 - t0);
    arch::shutdown(0);
}

int failures = 0;
void check(bool ok, const char* what) {
    out("selftest: %s: %s\n", ok ? "ok" : "FAILED", what);
    if (!ok) failures++;
}

// Exercises clock, one-shot timers, frames and heap from inside the guest.
[[noreturn]] void selftest() {
    uint64_t t0 = arch::monotonic_ns();
    uint64_t w = arch::wall_ns();
    out("selftest: clock %s, TSC %lu kHz, wall clock %lu s since the epoch\n", arch::clock_source(),
        arch::tsc_hz() / 1000, w / 1000000000);
    check(w / 1000000000 > 1577836800, "wall clock after 2020");
    uint64_t t1 = arch::monotonic_ns();
    check(t1 >= t0, "monotonic clock does not go back");

    uint64_t irqs0 = arch::timer_interrupts();
    uint64_t s0 = arch::monotonic_ns();
    sched::sleep_until(s0 + 20000000);
    uint64_t slept = arch::monotonic_ns() - s0;
    uint64_t irqs = arch::timer_interrupts() - irqs0;
    out("selftest: slept %lu us for 20000 us with %lu timer interrupt(s), timer %s\n", slept / 1000,
        irqs, arch::timer_mode());
    check(slept >= 20000000, "sleep lasts at least its duration");
    check(irqs >= 1 && irqs <= 3, "a sleep takes one-shot interrupts, not a tick");

    sched::Timer a, b;
    static int order[2];
    static int fired_count;
    fired_count = 0;
    uint64_t now = arch::monotonic_ns();
    sched::timer_start(&b, now + 4000000, [](sched::Timer*) { order[fired_count++] = 2; });
    sched::timer_start(&a, now + 2000000, [](sched::Timer*) { order[fired_count++] = 1; });
    sched::sleep_until(now + 6000000);
    check(fired_count == 2 && order[0] == 1 && order[1] == 2, "timers fire in deadline order");

    if (arch::cpu::cpuid(1).ecx & (1u << 28)) {
        check(arch::avx_enabled(), "AVX state enabled for applications (CR4.OSXSAVE, XCR0)");
    }

    auto& frames = mm::frames();
    size_t before = frames.free_pages();
    auto p = frames.alloc(16, 16);
    check(p.ok() && (*p & 0xffff) == 0, "frame allocation, 64 KiB aligned");
    if (p.ok()) check(frames.free(*p, 16).ok() && frames.free_pages() == before, "frame free");

    void* small = mm::heap_alloc(24);
    void* big = mm::heap_alloc(64 * 1024);
    check(small && big, "heap allocations");
    mm::heap_free(small);
    mm::heap_free(big);
    check(mm::heap_alloc(size_t(1) << 40) == nullptr, "an impossible allocation fails cleanly");

    out("selftest: %s\n", failures ? "FAILED" : "passed");
    arch::shutdown(failures ? 1 : 0);
}

extern "C" const char kiln_usertest_code[], kiln_usertest_code_end[];

// Ring 3 without a loader: one code page and one stack page mapped by hand.
[[noreturn]] void usertest() {
    constexpr uint64_t kCode = 0x400000, kStackTop = 0x80000000;
    auto code = mm::frames().alloc(1);
    auto stack = mm::frames().alloc(1);
    if (!code.ok() || !stack.ok()) arch::shutdown(abi::kStatusKernelPanic);
    auto* dst = static_cast<char*>(arch::phys_to_virt(*code));
    for (const char* p = kiln_usertest_code; p < kiln_usertest_code_end; p++) *dst++ = *p;
    auto& as = arch::kernel_address_space();
    if (!as.map(kCode, *code, 4096, arch::kPteUser).ok() ||
        !as.map(kStackTop - 4096, *stack, 4096, arch::kPteUser | arch::kPteWrite | arch::kPteNoExec).ok()) {
        arch::shutdown(abi::kStatusKernelPanic);
    }
    arch::init_user_mode();
    arch::enter_user(kCode, kStackTop - 16);
}

}  // namespace

[[noreturn]] void run_builtin_job(const char* cmdline) {
    Span<const char> v;
    if (cmdline_get(cmdline, "crash", &v)) {
        if (cmdline_key_equal(v, "pagefault")) crash_null_write();
        if (cmdline_key_equal(v, "ud")) crash_invalid_opcode();
        if (cmdline_key_equal(v, "stack")) crash_stack_overflow(0);
        klog::error("kiln: unknown crash=%.*s (pagefault, ud, stack)", int(v.size()), v.data());
        arch::shutdown(2);
    }
    if (cmdline_get(cmdline, "bench", &v) && cmdline_key_equal(v, "cpuloop")) cpuloop();
    if (cmdline_flag(cmdline, "selftest")) selftest();
    if (cmdline_flag(cmdline, "usertest")) usertest();
    if (cmdline_get(cmdline, "exit", &v)) {
        auto status = parse_u64(v);
        arch::shutdown(status.ok() ? int(*status & 0xff) : 2);
    }
    out("Hello from the kiln kernel!\n");
    arch::shutdown(0);
}

}  // namespace kiln
