// virtio 1.2 §5.3.6: "the driver places outgoing characters in a transmitq
// buffer"; the device consumes them and returns each buffer with len 0.
#include "virtio_console.h"

#include "abi/virtio.h"
#include "log.h"

#include <errno.h>
#include <limits.h>
#include <sys/uio.h>

namespace kiln::vmm {

namespace {

// Enough iovecs for a full queue of single-buffer chains.
constexpr int kMaxIov = 256;
static_assert(kMaxIov <= IOV_MAX);

// Writes all iovecs with as few writev() calls as the descriptor allows.
bool writev_all(int fd, struct iovec* iov, int n) {
    while (n > 0) {
        ssize_t w = writev(fd, iov, n);
        if (w < 0) {
            if (errno == EINTR) continue;
            return false;
        }
        while (n > 0 && static_cast<size_t>(w) >= iov->iov_len) {
            w -= iov->iov_len;
            ++iov;
            --n;
        }
        if (n > 0) {
            iov->iov_base = static_cast<uint8_t*>(iov->iov_base) + w;
            iov->iov_len -= w;
        }
    }
    return true;
}

}  // namespace

uint32_t VirtioConsole::device_id() const { return virtio::kDeviceConsole; }

Bytes VirtioConsole::config() const { return Bytes(config_, sizeof(config_)); }

Result<void> VirtioConsole::notify(VirtioMmio& transport, uint16_t q) {
    if (q == virtio::kConsoleTransmitq) return transmit(transport);
    // receiveq: the driver offered buffers for input. Input (stdin) is not
    // wired up yet, so they stay available until there is something to put
    // in them.
    // FIXME: feed stdin into receiveq buffers.
    return {};
}

Result<void> VirtioConsole::transmit(VirtioMmio& transport) {
    Virtqueue& vq = transport.queue(virtio::kConsoleTransmitq);
    static DescChain chain;  // 4 KiB; one vCPU, one caller at a time
    struct iovec iov[kMaxIov];
    uint16_t heads[kMaxIov];
    int niov = 0;
    int nheads = 0;
    auto flush = [&]() {
        if (!out_broken_ && niov > 0 && !writev_all(out_fd_, iov, niov)) out_broken_ = true;
        for (int i = 0; i < nheads; ++i) vq.push_used(heads[i], 0);
        niov = 0;
        nheads = 0;
    };
    // Gather every available chain into one writev, then return them all:
    // one guest notification costs one exit and (usually) one write.
    for (;;) {
        auto more = vq.pop(transport.memory(), &chain);
        if (!more.ok()) {
            flush();
            return Error(more.error());
        }
        if (!*more) break;
        if (niov + chain.count > kMaxIov || nheads == kMaxIov) flush();
        for (uint16_t i = 0; i < chain.count; ++i) {
            const ChainBuffer& b = chain.bufs[i];
            // Device-writable buffers have no place in transmitq; skip them.
            if (b.device_writable || b.len == 0) continue;
            iov[niov++] = iovec{b.data, b.len};
        }
        heads[nheads++] = chain.head;
    }
    flush();
    vq.publish_avail_event();
    transport.used_buffers(virtio::kConsoleTransmitq);
    return {};
}

}  // namespace kiln::vmm
