// Kernel-wide entry points between the boot sequence and the subsystems.
#pragma once

#include "boot_info.h"

namespace kiln {

const BootInfo& boot();

// Runs the job the command line names and ends the VM with its status.
[[noreturn]] void run_builtin_job(const char* cmdline);

}  // namespace kiln
