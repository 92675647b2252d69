#include "dev/console.h"

#include "dev/uart.h"

namespace kiln::dev {

void console_write(const char* s, size_t n) { uart_write(s, n); }

}  // namespace kiln::dev
