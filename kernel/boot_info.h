// What the kernel learns from the monitor at boot: the PVH start info
// (lib/abi/boot.h), copied out of low memory before anything reuses it.
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "abi/boot.h"

namespace kiln {

struct MemRange {
    uint64_t addr;
    uint64_t size;
};

struct BootInfo {
    static constexpr int kMaxRam = 32;
    MemRange ram[kMaxRam];
    int ram_count = 0;
    char cmdline[abi::kCmdlineMax] = {};
    // The PVH modules: initrd cpio archives, unpacked in order (later ones
    // add to and override earlier ones, as Linux does with several archives).
    static constexpr int kMaxModules = 8;
    MemRange modules[kMaxModules] = {};
    int module_count = 0;
    uint64_t start_info_pa = 0;
    uint64_t flags = 0;  // abi::kBootFlag*
    // kBootFlagKernelTables: the physical end of the table pages the
    // monitor built (they start after the image); 0 otherwise.
    uint64_t kernel_tables_end = 0;
    bool pvm = false;
};

// Parses the start info at physical `start_info_pa` (reachable through the
// boot identity map). Returns false when it is not a valid PVH start info.
bool parse_boot_info(uint64_t start_info_pa, BootInfo* out);

}  // namespace kiln
