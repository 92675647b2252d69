// kvmclock per Linux's Documentation/virt/kvm/x86/msr.rst (MSR_KVM_SYSTEM_TIME_NEW,
// MSR_KVM_WALL_CLOCK_NEW, struct pvclock_vcpu_time_info); TSC frequency from
// CPUID 0x15/0x16 or calibrated against the 8254 PIT; CMOS RTC for the wall
// clock when there is no kvmclock.
#include "arch/x86_64/clock.h"

#include "arch/x86_64/arch.h"
#include "arch/x86_64/cpu.h"
#include "arch/x86_64/paging.h"
#include "klog.h"

namespace kiln::arch {
namespace {

constexpr uint32_t kMsrKvmWallClockNew = 0x4b564d00;
constexpr uint32_t kMsrKvmSystemTimeNew = 0x4b564d01;
constexpr uint32_t kKvmFeatureClocksource2 = 1u << 3;

struct PvclockTime {
    volatile uint32_t version;
    uint32_t pad0;
    volatile uint64_t tsc_timestamp;
    volatile uint64_t system_time;
    volatile uint32_t tsc_to_system_mul;
    volatile int8_t tsc_shift;
    volatile uint8_t flags;
    uint8_t pad[2];
};
static_assert(sizeof(PvclockTime) == 32);

struct PvclockWall {
    volatile uint32_t version;
    volatile uint32_t sec;
    volatile uint32_t nsec;
};

alignas(64) PvclockTime pvclock;
alignas(64) PvclockWall pvwall;

enum class Source { kNone, kKvmclock, kTsc };
Source source = Source::kNone;
uint64_t tsc_frequency = 0;
uint64_t tsc_base = 0;      // TSC at monotonic 0 (TSC source)
uint64_t tsc_mult = 0;      // ns = (delta * tsc_mult) >> 32
uint64_t wall_at_zero = 0;  // wall clock at monotonic 0, ns

uint64_t mul_shift32(uint64_t a, uint64_t b) {
    return static_cast<uint64_t>((static_cast<unsigned __int128>(a) * b) >> 32);
}

uint64_t pvclock_ns() {
    uint32_t v;
    uint64_t tsc_ts, sys, ns;
    uint32_t mul;
    int8_t shift;
    do {
        v = pvclock.version;
        cpu::barrier();
        tsc_ts = pvclock.tsc_timestamp;
        sys = pvclock.system_time;
        mul = pvclock.tsc_to_system_mul;
        shift = pvclock.tsc_shift;
        uint64_t delta = cpu::rdtsc() - tsc_ts;
        delta = shift >= 0 ? delta << shift : delta >> -shift;
        ns = sys + mul_shift32(delta, mul);
        cpu::barrier();
    } while ((v & 1) || v != pvclock.version);
    return ns;
}

// Counts TSC ticks over ~10 ms of the 8254 PIT (1,193,182 Hz): channel 0
// as a free-running rate generator, read back with latch commands, so it
// works without the PC speaker gate (port 0x61) that microvm lacks.
uint64_t calibrate_tsc_with_pit() {
    constexpr uint32_t kPitHz = 1193182;
    constexpr uint32_t kWant = kPitHz / 100;
    auto read_count = [] {
        cpu::outb(0x43, 0x00);  // latch channel 0
        uint8_t lo = cpu::inb(0x40);
        uint8_t hi = cpu::inb(0x40);
        return uint16_t(lo | (hi << 8));
    };
    cpu::outb(0x43, 0x34);  // channel 0, lobyte/hibyte, mode 2
    cpu::outb(0x40, 0);
    cpu::outb(0x40, 0);  // count 65536
    uint16_t prev = read_count();
    if (prev == 0xffff && read_count() == 0xffff) return 0;  // no PIT
    uint64_t start = cpu::rdtsc();
    uint32_t elapsed = 0;
    for (uint64_t spins = 0; elapsed < kWant; spins++) {
        if (spins > 10000000) return 0;
        uint16_t now = read_count();
        elapsed += uint16_t(prev - now);  // counts down, wraps at 65536
        prev = now;
    }
    uint64_t end = cpu::rdtsc();
    return (end - start) * kPitHz / elapsed;
}

uint64_t tsc_frequency_from_cpuid() {
    uint32_t max = cpu::cpuid(0).eax;
    if (max >= 0x15) {
        auto r = cpu::cpuid(0x15);
        if (r.eax && r.ebx && r.ecx) return uint64_t(r.ecx) * r.ebx / r.eax;
    }
    if (max >= 0x16) {
        auto r = cpu::cpuid(0x16);
        if (r.eax) return uint64_t(r.eax) * 1000000;
    }
    return 0;
}

uint8_t cmos(uint8_t reg) {
    cpu::outb(0x70, reg);
    return cpu::inb(0x71);
}

// Days from 1970-01-01 to y-m-d (proleptic Gregorian).
int64_t days_from_civil(int64_t y, unsigned m, unsigned d) {
    y -= m <= 2;
    const int64_t era = (y >= 0 ? y : y - 399) / 400;
    const unsigned yoe = static_cast<unsigned>(y - era * 400);
    const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

uint64_t rtc_wall_ns() {
    for (int i = 0; i < 1000 && (cmos(0x0a) & 0x80); i++) {  // update in progress
    }
    uint8_t sec = cmos(0x00), min = cmos(0x02), hour = cmos(0x04);
    uint8_t day = cmos(0x07), mon = cmos(0x08), year = cmos(0x09);
    if (sec == 0xff && mon == 0xff) return 0;  // no RTC
    if (!(cmos(0x0b) & 0x04)) {                // BCD
        auto bcd = [](uint8_t v) { return uint8_t((v & 0x0f) + (v >> 4) * 10); };
        sec = bcd(sec), min = bcd(min), hour = bcd(hour & 0x7f), day = bcd(day), mon = bcd(mon),
        year = bcd(year);
    }
    if (mon < 1 || mon > 12 || day < 1 || day > 31) return 0;
    int64_t days = days_from_civil(2000 + year, mon, day);
    return uint64_t(days * 86400 + hour * 3600 + min * 60 + sec) * 1000000000ull;
}

void init() {
    auto sig = cpu::cpuid(0x40000000);
    bool kvm = sig.ebx == 0x4b4d564b && sig.ecx == 0x564b4d56 && sig.edx == 0x4d;
    if (kvm && sig.eax >= 0x40000001 && (cpu::cpuid(0x40000001).eax & kKvmFeatureClocksource2)) {
        wrmsr(kMsrKvmSystemTimeNew, virt_to_phys_image(&pvclock) | 1);
        wrmsr(kMsrKvmWallClockNew, virt_to_phys_image(&pvwall));
        if (pvclock.tsc_to_system_mul != 0) {
            source = Source::kKvmclock;
            int s = pvclock.tsc_shift;
            // hz = 1e9 * 2^32 / (mul * 2^shift); 1e9 * 2^32 < 2^62 fits.
            const uint64_t num = 1000000000ull << 32;
            const uint64_t den = pvclock.tsc_to_system_mul;
            tsc_frequency = s >= 0 ? num / (den << s) : (num / den) << -s;
            uint64_t wall = uint64_t(pvwall.sec) * 1000000000ull + pvwall.nsec;
            wall_at_zero = wall;  // the wall clock at kvmclock's zero
            return;
        }
    }
    tsc_frequency = tsc_frequency_from_cpuid();
    if (!tsc_frequency) tsc_frequency = calibrate_tsc_with_pit();
    if (!tsc_frequency) {
        klog::warn("kiln: cannot determine the TSC frequency; assuming 1 GHz");
        tsc_frequency = 1000000000;
    }
    tsc_mult = (1000000000ull << 32) / tsc_frequency;
    tsc_base = cpu::rdtsc();
    source = Source::kTsc;
    wall_at_zero = rtc_wall_ns();
}

void ensure() {
    if (source == Source::kNone) init();
}

}  // namespace

uint64_t monotonic_ns() {
    ensure();
    if (source == Source::kKvmclock) return pvclock_ns();
    return mul_shift32(cpu::rdtsc() - tsc_base, tsc_mult);
}

uint64_t wall_ns() {
    return monotonic_ns() + wall_at_zero;
}

uint64_t tsc_hz() {
    ensure();
    return tsc_frequency;
}

uint64_t tsc_at(uint64_t deadline_ns) {
    ensure();
    uint64_t now_ns = monotonic_ns();
    uint64_t now_tsc = cpu::rdtsc();
    if (deadline_ns <= now_ns) return now_tsc;
    uint64_t delta = deadline_ns - now_ns;
    // ticks = ns * hz / 1e9, as a 2^-28 fixed-point factor (no 128-bit division).
    const uint64_t ticks_per_ns_q28 = (tsc_frequency << 28) / 1000000000ull;
    return now_tsc + uint64_t((static_cast<unsigned __int128>(delta) * ticks_per_ns_q28) >> 28);
}

ClockParams clock_params() {
    ensure();
    ClockParams p{};
    p.mode = source == Source::kKvmclock ? ClockParams::Mode::kKvmclock : ClockParams::Mode::kTsc;
    p.tsc_base = tsc_base;
    p.tsc_mult = tsc_mult;
    p.wall_at_zero = wall_at_zero;
    if (source == Source::kKvmclock) {
        uint32_t v;
        do {
            v = pvclock.version;
            cpu::barrier();
            p.pv_tsc_timestamp = pvclock.tsc_timestamp;
            p.pv_system_time = pvclock.system_time;
            p.pv_mul = pvclock.tsc_to_system_mul;
            p.pv_shift = pvclock.tsc_shift;
            cpu::barrier();
        } while ((v & 1) || v != pvclock.version);
        p.pvclock_phys = virt_to_phys_image(&pvclock);
    }
    return p;
}

const char* clock_source() {
    ensure();
    return source == Source::kKvmclock ? "kvmclock" : "tsc";
}

}  // namespace kiln::arch
