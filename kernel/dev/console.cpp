// Program output: virtio-console when the monitor offers one, else the
// UART. The device is started on the first write, so a boot that prints
// nothing never pays for it.
#include "dev/console.h"

#include "dev/uart.h"
#include "dev/virtio_console.h"
#include "kernel.h"
#include "klog.h"

namespace kiln::dev {
namespace {
enum class Backend { kUnknown, kVirtio, kUart };
Backend backend = Backend::kUnknown;
}  // namespace

void console_write(const char* s, size_t n) {
    if (backend == Backend::kUnknown) {
        auto r = virtio_console_init(boot().cmdline);
        backend = r.ok() ? Backend::kVirtio : Backend::kUart;
        if (!r.ok() && r.error() != Errno::ENODEV) {
            klog::warn("kiln: virtio-console failed (%s); output goes to the UART", errno_name(r.error()));
        }
    }
    if (backend == Backend::kVirtio && virtio_console_write(s, n)) return;
    uart_write(s, n);
}

}  // namespace kiln::dev
