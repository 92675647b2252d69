// XSAVE/FXSAVE of the application's registers (Intel SDM vol. 1, ch. 13,
// "Managing State Using the XSAVE Feature Set").
#include "arch/x86_64/fpu.h"

#include "arch/x86_64/cpu.h"

namespace kiln::arch {
namespace {

constexpr size_t kHeader = 512;  // the XSAVE header follows the legacy area

alignas(64) uint8_t init_area[1024];  // legacy area + header; nothing past is read

uint64_t xgetbv0() {
    uint32_t lo, hi;
    asm volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    return (uint64_t(hi) << 32) | lo;
}

FpuLayout layout;
bool known = false;

}  // namespace

const FpuLayout& fpu_layout() {
    if (!known) {
        known = true;
        layout = {false, 512, 0x3};
        if (cpu::cpuid(0).eax >= 0xd && (cpu::cpuid(1).ecx & (1u << 27))) {
            const uint32_t size = cpu::cpuid(0xd, 0).ebx;
            if (size >= kHeader + 64) layout = {true, size, xgetbv0()};
        }
    }
    return layout;
}

void fpu_save(void* buf) {
    const FpuLayout& l = fpu_layout();
    auto* bytes = static_cast<uint8_t*>(buf);
    if (!l.xsave) {
        asm volatile("fxsave64 (%0)" ::"r"(buf) : "memory");
        return;
    }
    for (size_t i = 0; i < 64; i++) bytes[kHeader + i] = 0;
    asm volatile("xsave64 (%0)" ::"r"(buf), "a"(~0u), "d"(~0u) : "memory");
}

void fpu_restore(const void* buf, uint64_t features) {
    const FpuLayout& l = fpu_layout();
    if (!l.xsave) {
        asm volatile("fxrstor64 (%0)" ::"r"(buf) : "memory");
        return;
    }
    features &= l.xfeatures;
    asm volatile("xrstor64 (%0)" ::"r"(buf), "a"(uint32_t(features)), "d"(uint32_t(features >> 32))
                 : "memory");
}

void fpu_restore_legacy(const void* buf) {
    asm volatile("fxrstor64 (%0)" ::"r"(buf) : "memory");
}

void fpu_init_state() {
    const FpuLayout& l = fpu_layout();
    // The FXSAVE image of the initial state: FCW 0x37f, MXCSR 0x1f80, the
    // rest zero; an XSAVE header of zeros puts every component in its
    // initial state.
    init_area[0] = 0x7f;
    init_area[1] = 0x03;
    init_area[24] = 0x80;
    init_area[25] = 0x1f;
    fpu_restore(init_area, l.xfeatures);
}

bool fpu_state_valid(const void* buf, bool xsave_format) {
    const auto* bytes = static_cast<const uint8_t*>(buf);
    const uint32_t mxcsr = uint32_t(bytes[24]) | uint32_t(bytes[25]) << 8 |
                           uint32_t(bytes[26]) << 16 | uint32_t(bytes[27]) << 24;
    if (mxcsr & 0xffff0000u) return false;
    if (!xsave_format) return true;
    uint64_t header[8];
    for (int i = 0; i < 8; i++) {
        uint64_t v = 0;
        for (int b = 7; b >= 0; b--) v = (v << 8) | bytes[kHeader + 8 * i + b];
        header[i] = v;
    }
    if (header[0] & ~fpu_layout().xfeatures) return false;  // XSTATE_BV
    for (int i = 1; i < 8; i++) {
        if (header[i] != 0) return false;  // XCOMP_BV (standard format) and reserved
    }
    return true;
}

}  // namespace kiln::arch
