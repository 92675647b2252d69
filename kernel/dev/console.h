// The console: the program's stdin, stdout and stderr. kiln-vmm's console
// port when offered (stdout and stderr stay separate streams; one exit per
// call), else a virtio-console, else the UART.
#pragma once

#include <stddef.h>

namespace kiln::dev {

enum class Stream { kStdout = 1, kStderr = 2 };

void console_write(Stream stream, const char* s, size_t n);
inline void console_write(const char* s, size_t n) { console_write(Stream::kStdout, s, n); }

// Reads up to n bytes of stdin; 0 at end of input, -1 when the console has
// no input (no console port: stdin is empty).
long console_read(char* buf, size_t n);

}  // namespace kiln::dev
