#include "dev/virtio_console.h"

#include "arch/x86_64/cpu.h"
#include "arch/x86_64/paging.h"
#include "dev/virtio_mmio.h"
#include "dev/virtqueue.h"
#include "mm/memory.h"

namespace kiln::dev {
namespace {

// Output is copied into bounce pages the device may read: the caller's
// buffer may be anywhere (kernel image, later user memory).
constexpr uint32_t kBouncePages = 4;
constexpr uint32_t kChunk = 4096;

VirtioMmio transport;
Virtqueue txq;
uint64_t bounce_phys = 0;
char* bounce = nullptr;

}  // namespace

Result<void> virtio_console_init(const char* cmdline) {
    TRY(transport.find(cmdline, virtio::kDeviceConsole));
    TRY(transport.negotiate(0));
    TRY(transport.setup_queue(virtio::kConsoleTransmitq, txq, 16));
    bounce_phys = TRY(mm::frames().alloc(kBouncePages));
    bounce = static_cast<char*>(arch::phys_to_virt(bounce_phys));
    transport.driver_ok();
    return {};
}

bool virtio_console_write(const char* s, size_t n) {
    while (n > 0) {
        BufferRef bufs[kBouncePages];
        size_t count = 0, taken = 0;
        while (count < kBouncePages && taken < n) {
            size_t len = n - taken < kChunk ? n - taken : kChunk;
            for (size_t i = 0; i < len; i++) bounce[count * kChunk + i] = s[taken + i];
            bufs[count] = BufferRef{bounce_phys + count * kChunk, uint32_t(len), false};
            taken += len;
            count++;
        }
        if (!txq.add(bufs, count).ok()) return false;
        transport.notify(virtio::kConsoleTransmitq);
        // kiln-vmm completes the chain inside the notify exit; other
        // monitors may take a moment. The bounce pages are reused next.
        uint16_t id;
        uint32_t len;
        for (uint64_t spins = 0; !txq.take_used(&id, &len); spins++) {
            if (spins > (1ull << 32)) return false;
            arch::cpu::pause();
        }
        s += taken;
        n -= taken;
    }
    return true;
}

}  // namespace kiln::dev
