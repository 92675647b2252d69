// The console: where program output goes. virtio-console when the monitor
// offers one (one exit per write), the UART otherwise.
#pragma once

#include <stddef.h>

namespace kiln::dev {

void console_write(const char* s, size_t n);

}  // namespace kiln::dev
