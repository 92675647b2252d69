// The smallest 16550 the kernel log needs, at kPortCom1 (lib/abi/boot.h):
// THR bytes go to stderr a line at a time; LSR always says "transmitter
// empty"; every other register reads 0 and ignores writes. No interrupts,
// no input.
#pragma once

#include <stddef.h>
#include <stdint.h>

namespace kiln::vmm {

class Uart16550 {
public:
    Uart16550(int out_fd, bool quiet) : out_fd_(out_fd), quiet_(quiet) {}

    // Register `reg` (0..7) relative to the base port.
    void out(uint16_t reg, uint8_t value);
    uint8_t in(uint16_t reg) const;
    // Writes a partial line (at exit, or before a crash report).
    void flush();

private:
    int out_fd_;
    bool quiet_;
    bool dlab_ = false;  // LCR bit 7: registers 0/1 are the divisor latch
    size_t len_ = 0;
    char line_[256];
};

}  // namespace kiln::vmm
