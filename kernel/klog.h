// The kernel log: lines on the 16550 UART. Quiet by default, because on
// kvm-pvm every byte is a ~20 us exit; `kiln.log=info|debug` on the command
// line turns it up. Warnings, errors and crash reports always print.
#pragma once

#include <stdarg.h>

namespace kiln::klog {

enum class Level { kError = 0, kWarn = 1, kInfo = 2, kDebug = 3 };

void set_level(Level level);
bool enabled(Level level);

void vprint(Level level, const char* fmt, va_list ap);
[[gnu::format(printf, 2, 3)]] void print(Level level, const char* fmt, ...);

[[gnu::format(printf, 1, 2)]] inline void error(const char* fmt, ...);
[[gnu::format(printf, 1, 2)]] inline void warn(const char* fmt, ...);
[[gnu::format(printf, 1, 2)]] inline void info(const char* fmt, ...);
[[gnu::format(printf, 1, 2)]] inline void debug(const char* fmt, ...);

#define KILN_KLOG_LEVEL_FN(name, level)      \
    inline void name(const char* fmt, ...) { \
        if (!enabled(level)) return;         \
        va_list ap;                          \
        va_start(ap, fmt);                   \
        vprint(level, fmt, ap);              \
        va_end(ap);                          \
    }
KILN_KLOG_LEVEL_FN(error, Level::kError)
KILN_KLOG_LEVEL_FN(warn, Level::kWarn)
KILN_KLOG_LEVEL_FN(info, Level::kInfo)
KILN_KLOG_LEVEL_FN(debug, Level::kDebug)
#undef KILN_KLOG_LEVEL_FN

}  // namespace kiln::klog
