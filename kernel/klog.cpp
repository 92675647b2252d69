#include "klog.h"

#include "dev/uart.h"
#include "kiln/format.h"

namespace kiln::klog {
namespace {
Level threshold = Level::kWarn;
}

void set_level(Level level) {
    threshold = level;
}
bool enabled(Level level) {
    return static_cast<int>(level) <= static_cast<int>(threshold);
}

void vprint(Level level, const char* fmt, va_list ap) {
    if (!enabled(level)) return;
    char line[512];
    size_t n = vformat(line, sizeof(line), fmt, ap);
    if (n >= sizeof(line)) n = sizeof(line) - 1;
    dev::uart_write(line, n);
    dev::uart_write("\n", 1);
}

void print(Level level, const char* fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vprint(level, fmt, ap);
    va_end(ap);
}

}  // namespace kiln::klog
