// Mapping the vDSO and its vvar pages into the app (loader.h, linux/vdso/).
//
// FIXME: both are private copies made at exec: the vDSO's bytes, the Vvar
// page and, in kvmclock mode, a snapshot of the pvclock structure. The TSC
// source's parameters never change, so that is exact; in kvmclock mode the
// vDSO's clock parts from the kernel's if the hypervisor rewrites its
// parameters later. Mapping the live pvclock page (its phys is in
// arch::ClockParams) needs a user mapping of kernel frames from mm.
#include <linux/mman.h>

#include "arch/x86_64/clock.h"
#include "klog.h"
#include "linux/user.h"
#include "linux/vdso/vvar.h"
#include "loader/loader.h"
#include "mm/vm.h"
#include "sched/process.h"

extern "C" const uint8_t kiln_vdso_image[];  // linux/vdso/vdso_image.S.in
extern "C" const uint64_t kiln_vdso_image_size;

namespace kiln::loader {

static_assert(kVvarBase + vdso::kVvarPages * vdso::kPageSize == kVdsoBase);

Result<uint64_t> map_vdso() {
    mm::UserAddressSpace* vm = sched::current().vm;
    const uint64_t size = kiln_vdso_image_size;
    const uint64_t mapped = (size + vdso::kPageSize - 1) & ~(vdso::kPageSize - 1);
    if (size == 0 || mapped > kVdsoMaxBytes) {
        klog::error("loader: the vDSO image is %lu bytes; room for %lu", size, kVdsoMaxBytes);
        return Error(Errno::kENOEXEC);
    }
    constexpr int kFlags = MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED;
    constexpr int kRw = mm::kProtRead | mm::kProtWrite;

    arch::ClockParams c = arch::clock_params();
    vdso::Vvar v{};
    v.tsc_base = c.tsc_base;
    v.tsc_mult = c.tsc_mult;
    v.wall_at_zero = c.wall_at_zero;
    vdso::PvclockTime pv{};
    if (c.mode == arch::ClockParams::Mode::kKvmclock) {
        v.mode = vdso::kModePvclock;
        pv.tsc_timestamp = c.pv_tsc_timestamp;
        pv.system_time = c.pv_system_time;
        pv.tsc_to_system_mul = c.pv_mul;
        pv.tsc_shift = c.pv_shift;
    } else {
        v.mode = vdso::kModeTsc;
    }
    const uint64_t vvar_bytes = vdso::kVvarPages * vdso::kPageSize;
    TRY(vm->mmap(kVvarBase, vvar_bytes, kRw, kFlags, nullptr, 0));
    TRY(sys::copy_to_user(kVvarBase + vdso::kVvarOffset, &v, sizeof(v)));
    TRY(sys::copy_to_user(kVvarBase + vdso::kPvclockOffset, &pv, sizeof(pv)));
    TRY(vm->mprotect(kVvarBase, vvar_bytes, mm::kProtRead));

    TRY(vm->mmap(kVdsoBase, mapped, kRw, kFlags, nullptr, 0));
    TRY(sys::copy_to_user(kVdsoBase, kiln_vdso_image, size));
    TRY(vm->mprotect(kVdsoBase, mapped, mm::kProtRead | mm::kProtExec));
    return kVdsoBase;
}

}  // namespace kiln::loader
