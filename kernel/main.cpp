// kiln_main: the kernel's boot sequence, from either entry (boot.S) to the
// first piece of real work. Until a later issue loads an application, the
// command line picks a built-in job: `hello` (the default), `bench=cpuloop`,
// `selftest`, `crash=pagefault|ud`, `exit=N`.
#include "abi/boot.h"
#include "arch/x86_64/arch.h"
#include "arch/x86_64/paging.h"
#include "arch/x86_64/traps.h"
#include "boot_info.h"
#include "init.h"
#include "kernel.h"
#include "kiln/cmdline.h"
#include "klog.h"
#include "linux/syscall.h"
#include "mm/memory.h"
#include "sched/process.h"


namespace kiln {
namespace {

BootInfo boot_info;

void set_log_level(const char* cmdline) {
    Span<const char> v;
    if (!cmdline_get(cmdline, "kiln.log", &v)) return;
    if (cmdline_key_equal(v, "debug"))
        klog::set_level(klog::Level::kDebug);
    else if (cmdline_key_equal(v, "info"))
        klog::set_level(klog::Level::kInfo);
    else if (cmdline_key_equal(v, "error"))
        klog::set_level(klog::Level::kError);
}

}  // namespace

const BootInfo& boot() {
    return boot_info;
}

extern "C" [[noreturn]] void kiln_main(uint64_t start_info_pa, uint64_t flags,
                                       uint64_t tables_end) {
    arch::set_pvm(flags & abi::kBootFlagPvm);
    // Already on the final page tables (kiln-vmm built them): physical
    // memory is reached through the direct map from the first access on.
    if (flags & abi::kBootFlagKernelTables) arch::adopt_kernel_tables();
    arch::init_descriptors(flags & abi::kBootFlagDescriptors);
    if (!parse_boot_info(start_info_pa, &boot_info)) {
        klog::error("kiln: no valid PVH start info at 0x%lx: boot through a PVH loader",
                    start_info_pa);
        arch::shutdown(abi::kStatusKernelPanic);
    }
    boot_info.pvm = arch::pvm();
    boot_info.flags = flags;
    if (flags & abi::kBootFlagKernelTables) boot_info.kernel_tables_end = tables_end;
    set_log_level(boot_info.cmdline);
    klog::info("kiln: booting (%s), cmdline \"%s\"", arch::pvm() ? "kvm-pvm native" : "x86",
               boot_info.cmdline);
    if (auto r = mm::init_memory(boot_info); !r.ok()) {
        klog::error("kiln: memory set-up failed: %s", errno_name(r.error()));
        arch::shutdown(abi::kStatusKernelPanic);
    }
    arch::enable_supervisor_protection();
    arch::enable_user_fpu();
    sys::init_syscall_table();
    sys::set_strace(cmdline_flag(boot_info.cmdline, "kiln.strace"));
    sched::set_report_stats(cmdline_flag(boot_info.cmdline, "kiln.stats"));
    run_image_program(boot_info);  // returns only when the image names no program
    run_builtin_job(boot_info.cmdline);
}

}  // namespace kiln
