// The application's start: the root file system from the initrd modules,
// the process's files, the program the image names (/.kiln/argv), and the
// jump to ring 3. Without an image program the built-in jobs run instead.
#include "init.h"

#include "arch/x86_64/arch.h"
#include "fs/vfs.h"
#include "klog.h"
#include "linux/host_signals.h"
#include "loader/loader.h"
#include "net/service.h"
#include "sched/process.h"

namespace kiln {

void run_image_program(const BootInfo& boot) {
    if (boot.module_count == 0) return;
    if (auto r = fs::mount_root(boot); !r.ok()) {
        klog::error("kiln: cannot build the root file system from the initrd: %s",
                    errno_name(r.error()));
        sched::exit_process(abi::kStatusKernelPanic);
    }
    if (auto r = fs::init_process_files(); !r.ok()) {
        klog::error("kiln: cannot set up stdin, stdout and stderr: %s", errno_name(r.error()));
        sched::exit_process(abi::kStatusKernelPanic);
    }
    // With a NIC: the stack, attached and configuring (DHCP runs in the
    // background); without one nothing happens until a socket needs it.
    net::service_init(boot.cmdline, boot.flags);
    auto entry = loader::exec_from_image();
    if (!entry.ok()) {
        if (entry.error() == Errno::kENOENT && sched::current().exe_path[0] == 0) return;
        // A shell's statuses: 127 for a missing program, 126 for one that
        // cannot be executed.
        const int status = entry.error() == Errno::kENOENT ? 127 : 126;
        klog::error("kiln: cannot run %s: %s", sched::current().exe_path, errno_name(entry.error()));
        sched::exit_process(status);
    }
    sys::init_host_signals(boot);
    arch::init_user_mode();
    arch::enter_user(entry->rip, entry->rsp);
}

}  // namespace kiln
