#include "log.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <unistd.h>

#include "abi/boot.h"

namespace kiln::vmm {

namespace {

// One formatted line, one write(): no stdio buffering to flush at exit.
void vline(const char* prefix, const char* fmt, va_list ap) {
    char buf[1024];
    int n = snprintf(buf, sizeof(buf), "%s", prefix);
    int m = vsnprintf(buf + n, sizeof(buf) - n - 1, fmt, ap);
    if (m < 0) m = 0;
    size_t len = n + (static_cast<size_t>(m) < sizeof(buf) - n - 1 ? m : sizeof(buf) - n - 2);
    if (len == 0 || buf[len - 1] != '\n') buf[len++] = '\n';
    write_all(STDERR_FILENO, buf, len);
}

}  // namespace

void fatal(const char* fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vline("kiln-vmm: error: ", fmt, ap);
    va_end(ap);
    _exit(abi::kStatusMonitorError);
}

void log(const char* fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vline("kiln-vmm: ", fmt, ap);
    va_end(ap);
}

bool write_all(int fd, const void* data, unsigned long len) {
    const char* p = static_cast<const char*>(data);
    while (len > 0) {
        ssize_t n = write(fd, p, len);
        if (n < 0) {
            if (errno == EINTR) continue;
            return false;
        }
        p += n;
        len -= n;
    }
    return true;
}

}  // namespace kiln::vmm
