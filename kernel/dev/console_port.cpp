#include "dev/console_port.h"

#include "abi/boot.h"
#include "arch/x86_64/cpu.h"
#include "arch/x86_64/paging.h"

namespace kiln::dev {
namespace {

abi::ConsoleIo request;
// For bytes at an address the monitor cannot be told about (none yet; user
// memory later), copied in chunks.
char bounce[2048];

// One request through the port; the monitor's result (bytes moved or -errno).
int64_t submit(uint32_t stream, uint64_t phys, uint32_t n) {
    request.stream = stream;
    request.len = n;
    request.buf = phys;
    request.result = 0;
    arch::cpu::barrier();
    arch::cpu::outl(abi::kPortConsole, uint32_t(arch::virt_to_phys_image(&request)));
    arch::cpu::barrier();
    return request.result;
}

}  // namespace

long console_port_read(char* buf, size_t n) {
    uint64_t phys = arch::kernel_virt_to_phys(buf);
    char* target = buf;
    if (phys == ~0ull) {  // not directly addressable: read into the bounce buffer
        if (n > sizeof(bounce)) n = sizeof(bounce);
        target = bounce;
        phys = arch::virt_to_phys_image(bounce);
    }
    const int64_t got = submit(abi::kConsoleStdin, phys, uint32_t(n > 0xffffffffu ? 0xffffffffu : n));
    if (got < 0) return -1;
    if (target != buf) {
        for (int64_t i = 0; i < got; i++) buf[i] = bounce[i];
    }
    return long(got);
}

bool console_port_write(int stream, const char* s, size_t n) {
    uint64_t phys = arch::kernel_virt_to_phys(s);
    if (phys != ~0ull && n <= 0xffffffffu) return submit(uint32_t(stream), phys, uint32_t(n)) == int64_t(n);
    while (n > 0) {
        size_t len = n < sizeof(bounce) ? n : sizeof(bounce);
        for (size_t i = 0; i < len; i++) bounce[i] = s[i];
        if (submit(uint32_t(stream), arch::virt_to_phys_image(bounce), uint32_t(len)) != int64_t(len)) {
            return false;
        }
        s += len;
        n -= len;
    }
    return true;
}

}  // namespace kiln::dev
