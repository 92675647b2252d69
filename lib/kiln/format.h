// printf-style formatting without a C library: the subset a kernel needs for
// logs and crash reports. Conversions: %s %c %d %i %u %x %X %p %%; flags '-',
// '0' and '#' (0x before non-zero hex); a field width (digits or '*'); a
// precision ('.N' or '.*') that caps %s and gives integers a minimum digit
// count; length modifiers hh h l ll z.
// No floating point (the kernel is built with -mgeneral-regs-only).
//
// Deviations from C printf, chosen for crash reports: %p prints "0x" and hex
// digits for every value, including null ("0x0" where glibc says "(nil)");
// an unknown conversion is copied to the output verbatim.
#pragma once

#include <stdarg.h>
#include <stddef.h>

namespace kiln {

// Formats into buf[0, cap). Always NUL-terminates when cap > 0 (truncating
// as needed); returns the length the full output would have (snprintf
// semantics), so `vformat(...) >= cap` means "truncated".
size_t vformat(char* buf, size_t cap, const char* fmt, va_list ap)
    __attribute__((format(printf, 3, 0)));
size_t format(char* buf, size_t cap, const char* fmt, ...) __attribute__((format(printf, 3, 4)));

// Streams the output to put() in pieces, with no size limit (for consoles).
// put() is never called with n == 0; the pieces are not NUL-terminated.
using FormatPut = void (*)(void* ctx, const char* s, size_t n);
void vformat_to(FormatPut put, void* ctx, const char* fmt, va_list ap)
    __attribute__((format(printf, 3, 0)));
void format_to(FormatPut put, void* ctx, const char* fmt, ...)
    __attribute__((format(printf, 3, 4)));

}  // namespace kiln
