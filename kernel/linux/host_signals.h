// Signals sent to the monitor (Ctrl-C, SIGTERM, ...) become the program's
// (lib/abi/boot.h, "Host signals"): they are marked pending and delivered
// on the way back to the program, and they interrupt blocking calls.
#pragma once

#include "boot_info.h"

namespace kiln::sys {

// Opts in when the monitor offers host signals. Before the program starts.
void init_host_signals(const BootInfo& boot);

}  // namespace kiln::sys
