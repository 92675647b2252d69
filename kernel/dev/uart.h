// 16550 UART on COM1 (port 0x3f8), output only: the kernel log.
#pragma once

#include <stddef.h>

namespace kiln::dev {

void uart_write(const char* s, size_t n);

}  // namespace kiln::dev
