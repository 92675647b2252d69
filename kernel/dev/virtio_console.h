// virtio-console (virtio 1.2 §5.3), output on port 0's transmitq: one
// notification (one exit) per write, whatever its length.
#pragma once

#include <stddef.h>

#include "kiln/result.h"

namespace kiln::dev {

// Finds and starts the console; ENODEV when the monitor offers none.
Result<void> virtio_console_init(const char* cmdline);
// Writes all of s; false when the device failed.
bool virtio_console_write(const char* s, size_t n);

}  // namespace kiln::dev
