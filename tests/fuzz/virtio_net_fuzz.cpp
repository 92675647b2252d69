// Fuzz target for kiln-vmm's virtio-net device (vmm/virtio_net.h, virtio
// 1.2 §5.1) behind its virtio-mmio transport: a hostile driver sets up both
// queues, writes guest memory while the device works, and packets arrive
// from a backend (one end of a socket pair standing in for the TAP). The
// device's passes run as the I/O thread would run them. Input layout:
//
//   off  0  u8   flags: bit 0 MRG_RXBUF, 1 GUEST_CSUM, 2 CSUM, 3 EVENT_IDX,
//                  4 GUEST/HOST_TSO4, 5 GUEST/HOST_TSO6
//   off  1  u8   receiveq size_sel, off 2 u8 transmitq size_sel
//                  (queue size 1 << (sel % 9); 256 the largest)
//   off  3  u8   nops
//   off  4  6 x u32: receiveq desc/avail/used, transmitq desc/avail/used
//                  guest-physical addresses (RAM is [0, 1 MiB): some miss)
//   off 28  nops ops of 4 bytes: kind, u8 a, u16 b
//                  kind%5 == 0 transmitq notify + transmit pass
//                            1 backend sends a packet of b % 2048 bytes
//                              (taken from the image at a * 64), then a
//                              receive pass
//                            2 guest writes u16 b at image offset a * 251 + b
//                            3 receiveq notify + receive pass
//                            4 device reset, then set up again
//   then the memory image, copied to guest-physical 0.
//
// Invariants: the monitor never touches memory outside guest RAM (ASan),
// and every packet handed to the backend is a header plus at most a
// maximal frame.
#include <stddef.h>
#include <stdint.h>
#include <fcntl.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "abi/boot.h"
#include "abi/virtio.h"
#include "fuzz_check.h"
#include "guest_memory.h"
#include "ioapic.h"
#include "virtio_mmio.h"
#include "virtio_net.h"

using namespace kiln;
using namespace kiln::vmm;

namespace {

constexpr uint64_t kRam = 1 << 20;
constexpr size_t kHeaderSize = 28;
constexpr size_t kOpSize = 4;
constexpr size_t kMaxPacket = 12 + 14 + 4 + 65535;

class PairBackend final : public NetBackend {
public:
    PairBackend() {
        FUZZ_CHECK(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK, 0, fds_) == 0);
    }
    ~PairBackend() override {
        close(fds_[0]);
        close(fds_[1]);
    }
    int fd() const override { return fds_[0]; }
    int peer() const { return fds_[1]; }
    // Offers TSO both ways, as the TAP does.
    uint64_t offload_features() const override {
        return virtio::kNetFeatureHostTso4 | virtio::kNetFeatureHostTso6 |
               virtio::kNetFeatureGuestTso4 | virtio::kNetFeatureGuestTso6;
    }
    void set_offloads(uint64_t) override {}

private:
    int fds_[2];
};

GuestMemory& memory() {
    static GuestMemory* mem = [] {
        auto m = GuestMemory::create(kRam);
        FUZZ_CHECK(m.ok());
        return new GuestMemory(*m);
    }();
    return *mem;
}

uint32_t load_u32(const uint8_t* p) {
    uint32_t v;
    memcpy(&v, p, 4);
    return v;
}

void reg(VirtioMmio& t, uint32_t offset, uint32_t value) {
    uint8_t b[4];
    memcpy(b, &value, 4);
    t.write(offset, b, 4);
}

uint32_t read_reg(VirtioMmio& t, uint32_t offset) {
    uint8_t b[4];
    t.read(offset, b, 4);
    uint32_t v;
    memcpy(&v, b, 4);
    return v;
}

// What a driver does (§3.1.1), with the input's features and rings.
void set_up(VirtioMmio& t, const uint8_t* hdr) {
    uint32_t flags = hdr[0];
    uint32_t low = (flags & 1 ? virtio::kNetFeatureMrgRxbuf : 0) |
                   (flags & 16 ? virtio::kNetFeatureGuestTso4 | virtio::kNetFeatureHostTso4 : 0) |
                   (flags & 32 ? virtio::kNetFeatureGuestTso6 | virtio::kNetFeatureHostTso6 : 0) |
                   (flags & 2 ? virtio::kNetFeatureGuestCsum : 0) |
                   (flags & 4 ? virtio::kNetFeatureCsum : 0) |
                   (flags & 8 ? static_cast<uint32_t>(virtio::kFeatureEventIdx) : 0);
    reg(t, virtio::kRegStatus, 0);
    reg(t, virtio::kRegStatus, virtio::kStatusAcknowledge | virtio::kStatusDriver);
    reg(t, virtio::kRegDriverFeaturesSel, 1);
    reg(t, virtio::kRegDriverFeatures, 1);  // VERSION_1
    reg(t, virtio::kRegDriverFeaturesSel, 0);
    reg(t, virtio::kRegDriverFeatures, low);
    reg(t, virtio::kRegStatus, virtio::kStatusAcknowledge | virtio::kStatusDriver |
                                   virtio::kStatusFeaturesOk);
    for (uint32_t q = 0; q < 2; ++q) {
        reg(t, virtio::kRegQueueSel, q);
        reg(t, virtio::kRegQueueNum, 1u << (hdr[1 + q] % 9));
        reg(t, virtio::kRegQueueDescLow, load_u32(hdr + 4 + 12 * q));
        reg(t, virtio::kRegQueueDriverLow, load_u32(hdr + 8 + 12 * q));
        reg(t, virtio::kRegQueueDeviceLow, load_u32(hdr + 12 + 12 * q));
        reg(t, virtio::kRegQueueReady, 1);
    }
    reg(t, virtio::kRegStatus, virtio::kStatusAcknowledge | virtio::kStatusDriver |
                                   virtio::kStatusFeaturesOk | virtio::kStatusDriverOk);
}

// Everything the device sent to the backend: header plus a frame, bounded.
void drain(const PairBackend& b) {
    static uint8_t buf[kMaxPacket + 16];
    for (;;) {
        ssize_t n = recv(b.peer(), buf, sizeof(buf), MSG_DONTWAIT);
        if (n < 0) return;
        FUZZ_CHECK(n >= 12 && static_cast<size_t>(n) <= kMaxPacket);
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    if (size < kHeaderSize) return 0;
    GuestMemory& mem = memory();
    memset(mem.host_base(), 0, kRam);
    size_t nops = data[3];
    size_t ops_end = kHeaderSize + nops * kOpSize;
    if (ops_end > size) return 0;
    size_t image_len = size - ops_end < kRam ? size - ops_end : kRam;
    memcpy(mem.host_base(), data + ops_end, image_len);

    // The I/O APIC's pins stay masked: no interrupt reaches KVM (there is
    // no VM here).
    static Ioapic ioapic(-1);
    PairBackend backend;
    int kick[2];
    FUZZ_CHECK(pipe2(kick, O_NONBLOCK) == 0);
    uint8_t mac[6] = {0x52, 0x54, 0, 0x12, 0x34, 0x56};
    VirtioNet net(mac, backend, kick[1]);
    VirtioMmio t(mem, ioapic, abi::kVirtioIrqBase + 1, net);
    set_up(t, data);
    FUZZ_CHECK(read_reg(t, virtio::kRegDeviceId) == virtio::kDeviceNet);

    static uint8_t packet[2048];
    for (size_t i = 0; i < nops; ++i) {
        const uint8_t* op = data + kHeaderSize + i * kOpSize;
        uint8_t a = op[1];
        uint16_t b;
        memcpy(&b, op + 2, 2);
        switch (op[0] % 5) {
            case 0: {
                reg(t, virtio::kRegQueueNotify, virtio::kNetTransmitq);
                std::lock_guard<std::mutex> guard(t.lock());
                if (t.live()) net.transmit(t);
                break;
            }
            case 1: {
                size_t len = b % sizeof(packet);
                size_t from = size_t(a) * 64;
                for (size_t k = 0; k < len; ++k) {
                    packet[k] = from + k < image_len ? data[ops_end + from + k] : uint8_t(k);
                }
                (void)!send(backend.peer(), packet, len, MSG_DONTWAIT);
                std::lock_guard<std::mutex> guard(t.lock());
                if (t.live()) net.receive(t);
                break;
            }
            case 2: {
                size_t off = (size_t(a) * 251 + b) % (kRam - 1);
                memcpy(mem.host_base() + off, &b, 2);
                break;
            }
            case 3: {
                reg(t, virtio::kRegQueueNotify, virtio::kNetReceiveq);
                std::lock_guard<std::mutex> guard(t.lock());
                if (t.live()) net.receive(t);
                break;
            }
            default:
                set_up(t, data);
                break;
        }
        drain(backend);
    }
    if (nops == 0) {
        // No script: what a guest's first burst looks like.
        std::lock_guard<std::mutex> guard(t.lock());
        if (t.live()) {
            net.transmit(t);
            net.receive(t);
        }
        drain(backend);
    }
    close(kick[0]);
    close(kick[1]);
    return 0;
}
