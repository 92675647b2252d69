// The console port (lib/abi/boot.h, kPortConsole): the guest hands over a
// ConsoleIo by guest-physical address and the monitor writes its bytes to
// stdout or stderr, or reads stdin into it, before the guest resumes. One
// exit per call, no set-up.
#pragma once

#include <stdint.h>

#include "guest_memory.h"

namespace kiln::vmm {

class ConsolePort {
public:
    ConsolePort(const GuestMemory& mem, int stdin_fd, int stdout_fd, int stderr_fd)
        : mem_(mem), in_fd_(stdin_fd), out_fd_(stdout_fd), err_fd_(stderr_fd) {}

    // Handles one OUT of `request_gpa`. A bad request is answered through
    // its result field when that is reachable, and ignored otherwise.
    // A stdin read blocks the vCPU until input or EOF arrives.
    void handle(uint32_t request_gpa);

private:
    const GuestMemory& mem_;
    int in_fd_;
    int out_fd_;
    int err_fd_;
};

}  // namespace kiln::vmm
