// kiln-vmm's command line:
//   kiln-vmm [--mem SIZE] [--cmdline STR] [--initrd FILE]... [--stats] [--quiet-log]
//            [--net none|user|tap:NAME] [--mac MAC] [-p SPEC]... KERNEL.elf
#pragma once

#include <stdint.h>

#include "net_options.h"

namespace kiln::vmm {

inline constexpr uint64_t kDefaultMem = 64ull << 20;
inline constexpr uint64_t kMinMem = 16ull << 20;
inline constexpr uint64_t kMaxMem = 64ull << 30;
// As many PVH modules as the kernel reads (kernel/boot_info.h BootInfo::kMaxModules).
inline constexpr int kMaxInitrds = 8;

struct Options {
    uint64_t mem = kDefaultMem;
    const char* cmdline = "";
    // The --initrd files in command-line order: PVH modules 0, 1, ...
    const char* initrds[kMaxInitrds] = {};
    int initrd_count = 0;
    const char* kernel = nullptr;
    bool stats = false;
    bool quiet_log = false;           // drop the kernel's UART log
    bool debug_seccomp_violation = false;  // hidden: make a forbidden syscall under seccomp
    NetOptions net;                   // --net none by default: no network device
};

// Parses argv; on bad usage prints a message and exits with status 125.
Options parse_options(int argc, char** argv);

// "64M", "1G", "512K", "1048576" (bytes), with an optional "iB"/"B" after the
// unit. False when unparsable or overflowing.
bool parse_size(const char* s, uint64_t* out);

}  // namespace kiln::vmm
