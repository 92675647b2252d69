// Messages from kiln-vmm itself, on stderr. The guest's streams (UART log on
// stderr, console on stdout) are written elsewhere; these lines always start
// with "kiln-vmm:" so they can be told apart.
#pragma once

namespace kiln::vmm {

// Prints "kiln-vmm: error: <message>" and exits with kStatusMonitorError.
// For set-up failures caused by the host or the user's input.
[[noreturn]] void fatal(const char* fmt, ...) __attribute__((format(printf, 1, 2)));

// Prints "kiln-vmm: <message>".
void log(const char* fmt, ...) __attribute__((format(printf, 1, 2)));

// Writes all of [data, data+len) to fd, retrying on short writes and EINTR.
// False when the descriptor refuses (e.g. a closed pipe).
bool write_all(int fd, const void* data, unsigned long len);

}  // namespace kiln::vmm
