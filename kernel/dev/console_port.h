// kiln-vmm's console port (lib/abi/boot.h, kPortConsole): one OUT per
// write, no set-up. Only used when the monitor announces it.
#pragma once

#include <stddef.h>

namespace kiln::dev {

// Writes all of s to the monitor's stdout (stream 1) or stderr (2); false
// when the monitor refused it.
bool console_port_write(int stream, const char* s, size_t n);

// Reads up to n bytes of the monitor's stdin (blocking); 0 at EOF, -1 on error.
long console_port_read(char* buf, size_t n);

}  // namespace kiln::dev
