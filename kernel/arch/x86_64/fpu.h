// The application's FPU/SSE/AVX state, saved into and restored from a
// signal frame. The kernel itself never touches vector registers
// (-mgeneral-regs-only), so the registers still hold the application's
// state whenever the kernel runs on its behalf.
#pragma once

#include <stddef.h>
#include <stdint.h>

namespace kiln::arch {

struct FpuLayout {
    bool xsave;          // XSAVE enabled (CR4.OSXSAVE); else FXSAVE's 512 bytes
    uint32_t size;       // bytes xsave writes for the enabled features (CPUID 0xD.0:EBX)
    uint64_t xfeatures;  // XCR0
};

// Read once (CPUID traps on kvm-pvm) and cached.
const FpuLayout& fpu_layout();

// buf: 64-byte aligned, fpu_layout().size bytes. The XSAVE header is
// zeroed before saving, as XSAVE writes only its XSTATE_BV field.
void fpu_save(void* buf);
// Restores from a kernel copy the caller has validated (fpu_state_valid).
// features: the components to load (the rest go to their initial state).
void fpu_restore(const void* buf, uint64_t features);
// FXRSTOR of a legacy 512-byte area (a frame without the XSAVE markers).
void fpu_restore_legacy(const void* buf);
// Puts every component in its initial state (a handler starts so).
void fpu_init_state();
// Whether xrstor/fxrstor would accept buf: MXCSR reserved bits clear and,
// for XSAVE, a standard-format header naming only enabled features.
bool fpu_state_valid(const void* buf, bool xsave_format);

}  // namespace kiln::arch
