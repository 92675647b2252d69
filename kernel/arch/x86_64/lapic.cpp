#include "arch/x86_64/lapic.h"

#include "arch/x86_64/arch.h"
#include "arch/x86_64/clock.h"
#include "arch/x86_64/cpu.h"
#include "arch/x86_64/paging.h"
#include "arch/x86_64/traps.h"
#include "klog.h"

namespace kiln::arch {
namespace {

constexpr uint32_t kMsrApicBase = 0x1b;
constexpr uint32_t kMsrTscDeadline = 0x6e0;
constexpr uint64_t kApicBaseX2 = 1u << 10, kApicBaseEnable = 1u << 11;
constexpr uint64_t kXapicDefaultBase = 0xfee00000;

// Register offsets in xAPIC MMIO; the x2APIC MSR is 0x800 + offset/16.
constexpr uint32_t kRegEoi = 0x0b0;
constexpr uint32_t kRegSvr = 0x0f0;
constexpr uint32_t kRegLvtTimer = 0x320;
constexpr uint32_t kRegInitialCount = 0x380;
constexpr uint32_t kRegCurrentCount = 0x390;
constexpr uint32_t kRegDivide = 0x3e0;
constexpr uint32_t kLvtMasked = 1u << 16;
constexpr uint32_t kLvtTscDeadline = 2u << 17;

enum class Mode { kOff, kX2Deadline, kX2OneShot, kXDeadline, kXOneShot };
Mode mode = Mode::kOff;
bool x2 = false;
volatile uint8_t* xapic = nullptr;
uint64_t apic_ticks_per_ms = 0;
void (*on_fire)() = nullptr;
uint64_t fired = 0;

void write_reg(uint32_t reg, uint32_t v) {
    if (x2) {
        wrmsr(0x800 + reg / 16, v);
    } else {
        *reinterpret_cast<volatile uint32_t*>(xapic + reg) = v;
    }
}

uint32_t read_reg(uint32_t reg) {
    if (x2) return uint32_t(cpu::rdmsr(0x800 + reg / 16));
    return *reinterpret_cast<volatile uint32_t*>(xapic + reg);
}

bool deadline_mode() {
    return mode == Mode::kX2Deadline || mode == Mode::kXDeadline;
}

void on_timer_interrupt(TrapFrame&) {
    write_reg(kRegEoi, 0);
    fired++;
    if (on_fire) on_fire();
}

// Measures the count-mode timer against the clock over ~1 ms.
uint64_t calibrate_count_mode() {
    write_reg(kRegDivide, 0xb);  // divide by 1
    write_reg(kRegLvtTimer, kLvtMasked | kTimerVector);
    write_reg(kRegInitialCount, 0xffffffff);
    uint64_t t0 = monotonic_ns();
    while (monotonic_ns() - t0 < 1000000) cpu::pause();
    uint32_t left = read_reg(kRegCurrentCount);
    uint64_t elapsed = monotonic_ns() - t0;
    write_reg(kRegInitialCount, 0);
    uint64_t ticks = 0xffffffffull - left;
    return elapsed ? ticks * 1000000 / elapsed : 0;
}

void setup() {
    auto leaf1 = cpu::cpuid(1);
    x2 = leaf1.ecx & (1u << 21);
    const bool tsc_deadline = leaf1.ecx & (1u << 24);
    uint64_t base = cpu::rdmsr(kMsrApicBase);
    if (x2) {
        wrmsr(kMsrApicBase, base | kApicBaseEnable | kApicBaseX2);
    } else {
        uint64_t pa = base & 0xfffff000;
        if (!pa) pa = kXapicDefaultBase;
        auto m = map_mmio(pa, 4096);
        if (!m.ok()) {
            klog::error("kiln: cannot map the local APIC: %s", errno_name(m.error()));
            return;
        }
        xapic = *m;
    }
    set_irq_handler(kTimerVector, on_timer_interrupt);
    set_irq_handler(kSpuriousVector, [](TrapFrame&) {});
    write_reg(kRegSvr, 0x100 | kSpuriousVector);  // software enable
    if (tsc_deadline) {
        write_reg(kRegLvtTimer, kLvtTscDeadline | kTimerVector);
        mode = x2 ? Mode::kX2Deadline : Mode::kXDeadline;
    } else {
        apic_ticks_per_ms = calibrate_count_mode();
        if (!apic_ticks_per_ms) apic_ticks_per_ms = 1000000;  // KVM's and QEMU's 1 GHz bus
        write_reg(kRegLvtTimer, kTimerVector);                // one-shot
        mode = x2 ? Mode::kX2OneShot : Mode::kXOneShot;
    }
    klog::info("kiln: timer: %s", timer_mode());
}

}  // namespace

void lapic_enable() {
    if (mode == Mode::kOff) setup();
}

void lapic_eoi() { write_reg(kRegEoi, 0); }

void timer_arm(uint64_t deadline_ns, void (*handler)()) {
    if (mode == Mode::kOff) setup();
    on_fire = handler;
    if (deadline_mode()) {
        wrmsr(kMsrTscDeadline, tsc_at(deadline_ns));
        return;
    }
    uint64_t now = monotonic_ns();
    uint64_t delta_ns = deadline_ns > now ? deadline_ns - now : 0;
    uint64_t ticks = delta_ns / 1000 * apic_ticks_per_ms / 1000;
    if (ticks == 0) ticks = 1;
    if (ticks > 0xffffffffull) ticks = 0xffffffffull;  // fires early; the caller re-arms
    write_reg(kRegInitialCount, uint32_t(ticks));
}

void timer_disarm() {
    if (mode == Mode::kOff) return;
    if (deadline_mode()) {
        wrmsr(kMsrTscDeadline, 0);
    } else {
        write_reg(kRegInitialCount, 0);
    }
}

uint64_t timer_interrupts() {
    return fired;
}

const char* timer_mode() {
    switch (mode) {
        case Mode::kX2Deadline:
            return "x2APIC TSC-deadline";
        case Mode::kX2OneShot:
            return "x2APIC one-shot";
        case Mode::kXDeadline:
            return "xAPIC TSC-deadline";
        case Mode::kXOneShot:
            return "xAPIC one-shot";
        case Mode::kOff:
            break;
    }
    return "off";
}

}  // namespace kiln::arch
