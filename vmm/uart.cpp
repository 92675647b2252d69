// 16550 register map (PC16550D data sheet, table 2): 0 THR/RBR (DLL with
// DLAB), 1 IER (DLM with DLAB), 2 IIR/FCR, 3 LCR, 4 MCR, 5 LSR, 6 MSR, 7 SCR.
#include "uart.h"

#include "log.h"

namespace kiln::vmm {

namespace {

constexpr uint16_t kThr = 0, kLcr = 3, kLsr = 5;
constexpr uint8_t kLcrDlab = 0x80;
constexpr uint8_t kLsrThrEmpty = 0x20, kLsrTransmitterEmpty = 0x40;

}  // namespace

void Uart16550::out(uint16_t reg, uint8_t value) {
    if (reg == kLcr) {
        dlab_ = (value & kLcrDlab) != 0;
        return;
    }
    if (reg != kThr || dlab_ || quiet_) return;
    line_[len_++] = static_cast<char>(value);
    // Whole lines keep the kernel log from interleaving badly with the
    // monitor's own messages, and cost one write() per line, not per byte.
    if (value == '\n' || len_ == sizeof(line_)) flush();
}

uint8_t Uart16550::in(uint16_t reg) const {
    return reg == kLsr ? (kLsrThrEmpty | kLsrTransmitterEmpty) : 0;
}

void Uart16550::flush() {
    if (len_ == 0) return;
    write_all(out_fd_, line_, len_);
    len_ = 0;
}

}  // namespace kiln::vmm
