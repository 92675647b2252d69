// virtio 1.2 §5.1.6.2 (packet transmission), §5.1.6.3/§5.1.6.4 (receiving,
// mergeable buffers), §5.1.6.2.1 (header on transmit), §2.7 (the rings).
// Everything read from the rings is checked by Virtqueue::pop (addresses in
// guest RAM, chain length bounded by the queue, no loops); this file adds the
// checks that depend on the queue's direction: transmit chains hold only
// device-readable buffers, receive chains only device-writable ones.
#include "virtio_net.h"

#include "log.h"

#include <errno.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

namespace kiln::vmm {

namespace {

constexpr uint32_t kHdrLen = sizeof(virtio::NetHdr);
// The largest packet either way: an IP packet of at most 64 KiB (a GSO
// packet, or an MTU-sized one with jumbo frames) behind an Ethernet header
// with a VLAN tag.
constexpr uint32_t kMaxPacket = kHdrLen + 14 + 4 + 65535;
// Packets per pass before the I/O thread looks at its other work.
constexpr int kBudget = 64;

// One receive buffer for a packet from the backend; the I/O thread is the
// only user.
uint8_t g_rx_packet[kMaxPacket + 1];
DescChain g_chain;  // the chain being worked on (4 KiB), I/O thread only

}  // namespace

VirtioNet::VirtioNet(const uint8_t mac[6], NetBackend& backend, int kick_fd)
    : backend_(backend), kick_fd_(kick_fd) {
    memcpy(config_.mac, mac, 6);
    config_.status = virtio::kNetStatusLinkUp;
}

uint64_t VirtioNet::features() const {
    return virtio::kNetFeatureCsum | virtio::kNetFeatureGuestCsum | virtio::kNetFeatureMac |
           virtio::kNetFeatureMrgRxbuf | virtio::kNetFeatureStatus | backend_.offload_features();
}

Bytes VirtioNet::config() const {
    // SAFETY: NetConfig is a plain struct of bytes and a u16 (little-endian
    // on x86, as the config space is).
    return Bytes(reinterpret_cast<const uint8_t*>(&config_), sizeof(config_));
}

Result<void> VirtioNet::notify(VirtioMmio&, uint16_t) {
    ++kicks;
    // The I/O thread does the work; a full eventfd counter (never in
    // practice) still leaves it readable, so the result does not matter.
    uint64_t one = 1;
    (void)!write(kick_fd_, &one, sizeof(one));
    return {};
}

void VirtioNet::driver_ok(VirtioMmio& transport) {
    backend_.activate();
    backend_.set_offloads(transport.driver_features());
    uint64_t one = 1;
    (void)!write(kick_fd_, &one, sizeof(one));
}

void VirtioNet::reset() { pending_len_ = 0; }

bool VirtioNet::transmit(VirtioMmio& transport) {
    Virtqueue& vq = transport.queue(virtio::kNetTransmitq);
    static struct iovec iov[kQueueSizeMax];
    bool blocked = false;
    int done = 0;
    for (;;) {
        if (done == kBudget) {
            // More may be waiting: the caller comes back without a kick.
            blocked = false;
            break;
        }
        auto more = vq.pop(transport.memory(), &g_chain);
        if (!more.ok()) {
            transport.device_error(more.error() == Errno::kEFAULT
                                       ? "transmitq: a ring or buffer lies outside guest RAM"
                                   : more.error() == Errno::kELOOP
                                       ? "transmitq: a descriptor chain loops"
                                       : "transmitq: a ring index, descriptor index or flag is "
                                         "invalid");
            return false;
        }
        if (!*more) {
            if (vq.arm_notify()) continue;
            break;
        }
        uint64_t total = 0;
        int n = 0;
        for (uint16_t i = 0; i < g_chain.count; ++i) {
            const ChainBuffer& b = g_chain.bufs[i];
            if (b.device_writable) {
                transport.device_error("transmitq: a chain holds a device-writable buffer");
                return false;
            }
            if (b.len == 0) continue;
            iov[n++] = iovec{b.data, b.len};
            total += b.len;
        }
        ++done;
        if (total < kHdrLen) {
            transport.device_error("transmitq: a packet is shorter than its 12-byte header");
            return false;
        }
        if (total > kMaxPacket) {
            ++dropped;
            if (!dropped_logged_) {
                log("virtio-net: dropped a %llu-byte transmit packet (limit %u); further drops "
                    "are only counted", static_cast<unsigned long long>(total), kMaxPacket);
                dropped_logged_ = true;
            }
            vq.push_used(g_chain.head, 0);
            continue;
        }
        ssize_t w = writev(backend_.fd(), iov, n);
        if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            vq.unpop(1);
            blocked = true;
            --done;
            break;
        }
        // Anything else (a TAP that is down, a header the backend refuses)
        // loses this packet, as a real link would.
        if (w < 0) {
            ++dropped;
            if (!refused_logged_) {
                log("virtio-net: the backend refused a packet (%s%s); further refusals are "
                    "only counted", strerror(errno),
                    errno == EIO ? ": is the TAP device up?" : "");
                refused_logged_ = true;
            }
        } else {
            ++tx_packets;
        }
        vq.push_used(g_chain.head, 0);
    }
    transport.used_buffers(virtio::kNetTransmitq);
    return blocked || done == kBudget;
}

bool VirtioNet::deliver_pending(VirtioMmio& transport) {
    Virtqueue& vq = transport.queue(virtio::kNetReceiveq);
    bool mergeable = (transport.driver_features() & virtio::kNetFeatureMrgRxbuf) != 0;
    uint16_t max_chains = mergeable ? vq.size : 1;
    static uint16_t heads[kQueueSizeMax];
    static uint32_t lens[kQueueSizeMax];
    uint8_t* num_buffers[2] = {nullptr, nullptr};  // where bytes 10 and 11 landed
    uint32_t off = 0;
    uint16_t used = 0;
    while (off < pending_len_) {
        if (used == max_chains) {
            vq.unpop(used);
            if (mergeable) {
                transport.device_error("receiveq: the whole ring cannot hold one packet");
            } else {
                // Without MRG_RXBUF every buffer must hold a whole packet
                // (§5.1.6.3.1); this one does not: drop the packet.
                ++dropped;
                if (!dropped_logged_) {
                    log("virtio-net: dropped a %u-byte packet: receive buffer too small (no "
                        "MRG_RXBUF); further drops are only counted", pending_len_);
                    dropped_logged_ = true;
                }
                pending_len_ = 0;
            }
            return true;
        }
        auto more = vq.pop(transport.memory(), &g_chain);
        if (!more.ok()) {
            vq.unpop(used);
            transport.device_error(more.error() == Errno::kEFAULT
                                       ? "receiveq: a ring or buffer lies outside guest RAM"
                                   : more.error() == Errno::kELOOP
                                       ? "receiveq: a descriptor chain loops"
                                       : "receiveq: a ring index, descriptor index or flag is "
                                         "invalid");
            return true;
        }
        if (!*more) {
            vq.unpop(used);
            return false;
        }
        uint32_t start = off;
        for (uint16_t i = 0; i < g_chain.count && off < pending_len_; ++i) {
            const ChainBuffer& b = g_chain.bufs[i];
            if (!b.device_writable) {
                vq.unpop(used + 1);
                transport.device_error("receiveq: a chain holds a device-readable buffer");
                return true;
            }
            uint32_t k = pending_len_ - off < b.len ? pending_len_ - off : b.len;
            memcpy(b.data, g_rx_packet + off, k);
            for (uint32_t j = 10; j < 12; ++j) {
                if (j >= off && j < off + k) num_buffers[j - 10] = b.data + (j - off);
            }
            off += k;
        }
        heads[used] = g_chain.head;
        lens[used] = off - start;
        ++used;
    }
    // The packet is at least a header long, so both bytes have a home.
    if (num_buffers[0] != nullptr) *num_buffers[0] = static_cast<uint8_t>(used);
    if (num_buffers[1] != nullptr) *num_buffers[1] = static_cast<uint8_t>(used >> 8);
    for (uint16_t i = 0; i < used; ++i) vq.push_used(heads[i], lens[i]);
    ++rx_packets;
    pending_len_ = 0;
    return true;
}

bool VirtioNet::receive(VirtioMmio& transport) {
    Virtqueue& vq = transport.queue(virtio::kNetReceiveq);
    uint64_t features = transport.driver_features();
    bool guest_csum = (features & virtio::kNetFeatureGuestCsum) != 0;
    bool stalled = false;
    for (int done = 0; done < kBudget;) {
        if (pending_len_ == 0) {
            ssize_t n = read(backend_.fd(), g_rx_packet, sizeof(g_rx_packet));
            if (n < 0 || n == 0) break;  // EAGAIN (or a backend gone: the loop sees HUP)
            if (static_cast<size_t>(n) < kHdrLen + 14 || static_cast<size_t>(n) > kMaxPacket) {
                ++dropped;
                continue;
            }
            virtio::NetHdr hdr;
            memcpy(&hdr, g_rx_packet, kHdrLen);
            // GSO only of a kind the driver took (the backend was told).
            bool gso_ok = hdr.gso_type == virtio::kNetGsoNone ||
                          (hdr.gso_type == virtio::kNetGsoTcpv4 &&
                           (features & virtio::kNetFeatureGuestTso4)) ||
                          (hdr.gso_type == virtio::kNetGsoTcpv6 &&
                           (features & virtio::kNetFeatureGuestTso6));
            if (!gso_ok) {
                ++dropped;
                continue;
            }
            // §5.1.6.3.2: without GUEST_CSUM the flags must be 0 (the
            // backend was told to hand over complete checksums).
            if (!guest_csum) hdr.flags = 0;
            hdr.num_buffers = 1;
            memcpy(g_rx_packet, &hdr, kHdrLen);
            pending_len_ = static_cast<uint32_t>(n);
        }
        if (!deliver_pending(transport)) {
            // Out of receive buffers: sleep until the driver adds some.
            if (vq.arm_notify()) continue;
            stalled = true;
            break;
        }
        if (!transport.live()) break;
        ++done;
    }
    transport.used_buffers(virtio::kNetReceiveq);
    return stalled;
}

}  // namespace kiln::vmm
