// --stats: one line on stderr at exit,
//   kiln-vmm stats: exits=N io=N mmio=N hlt=N other=N vmm_rss_kib=N guest_touched_kib=N
// where vmm_rss_kib is the process's resident memory minus the guest pages
// it holds, and guest_touched_kib the guest RAM actually backed.
#pragma once

#include <stdint.h>

#include "guest_memory.h"
#include "vcpu_loop.h"

namespace kiln::vmm {

class Stats {
public:
    // Opens /proc/self/statm and allocates the mincore buffer: done before
    // seccomp, which forbids both.
    void prepare(const GuestMemory& mem);
    void print(const GuestMemory& mem, const ExitCounters& c);

private:
    int statm_fd_ = -1;
    uint8_t* pages_ = nullptr;
};

}  // namespace kiln::vmm
