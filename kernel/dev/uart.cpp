// 16550 UART (PC16550D data sheet), transmit only, on COM1. Virtual UARTs
// (kiln-vmm's, QEMU's) never hold the transmitter busy, so the line status
// register is not polled: on kvm-pvm each register access is a ~20 us exit,
// and one access per byte is already the reason the log is quiet by default.
#include "dev/uart.h"

#include "abi/boot.h"
#include "arch/x86_64/cpu.h"

namespace kiln::dev {

void uart_write(const char* s, size_t n) {
    for (size_t i = 0; i < n; i++) arch::cpu::outb(abi::kPortCom1, static_cast<uint8_t>(s[i]));
}

}  // namespace kiln::dev
