// Program output, by the cheapest path the monitor offers: kiln-vmm's
// console port (one exit, no set-up), else a virtio-console (one exit per
// write after ~20 to start it), else the UART (one exit per byte). The
// choice is made on the first write, so a boot that prints nothing pays
// for none of them. `kiln.console=virtio|uart` on the command line forces one.
#include "dev/console.h"

#include "abi/boot.h"
#include "dev/console_port.h"
#include "dev/uart.h"
#include "dev/virtio_console.h"
#include "kernel.h"
#include "kiln/cmdline.h"
#include "klog.h"

namespace kiln::dev {
namespace {

enum class Backend { kUnknown, kPort, kVirtio, kUart };
Backend backend = Backend::kUnknown;

Backend choose() {
    const char* cmdline = boot().cmdline;
    Span<const char> forced;
    const bool has_forced = cmdline_get(cmdline, "kiln.console", &forced);
    if (has_forced && cmdline_key_equal(forced, "uart")) return Backend::kUart;
    if ((boot().flags & abi::kBootFlagConsolePort) &&
        !(has_forced && cmdline_key_equal(forced, "virtio"))) {
        return Backend::kPort;
    }
    auto r = virtio_console_init(cmdline);
    if (r.ok()) return Backend::kVirtio;
    if (r.error() != Errno::kENODEV) {
        klog::warn("kiln: virtio-console failed (%s); output goes to the UART",
                   errno_name(r.error()));
    }
    return Backend::kUart;
}

}  // namespace

void console_write(Stream stream, const char* s, size_t n) {
    if (backend == Backend::kUnknown) backend = choose();
    if (backend == Backend::kPort && console_port_write(static_cast<int>(stream), s, n)) return;
    if (backend == Backend::kVirtio && virtio_console_write(s, n)) return;
    uart_write(s, n);
}

long console_read(char* buf, size_t n) {
    if (backend == Backend::kUnknown) backend = choose();
    if (backend != Backend::kPort) return -1;
    return console_port_read(buf, n);
}

}  // namespace kiln::dev
