// virtio-net (virtio 1.2 §5.1): one receiveq/transmitq pair, MAC and link
// status in config space, checksum offload both ways (CSUM, GUEST_CSUM),
// mergeable receive buffers and, through the transport, EVENT_IDX; TCP
// segmentation offload both ways when the backend carries it (TAP).
//
// Packets move on kiln-vmm's I/O thread (net_io.h), never on the vCPU
// thread: a guest notification only wakes that thread (an eventfd), and the
// thread takes the transport's lock for each pass over the queues. The
// backend is a file descriptor that carries one packet per read/write as a
// 12-byte virtio_net_hdr followed by the Ethernet frame: a TAP device with
// IFF_VNET_HDR, or the socket to kiln-slirp (--net user).
#pragma once

#include <stdint.h>

#include "abi/virtio.h"
#include "virtio_mmio.h"

namespace kiln::vmm {

// What the backend does besides moving packets.
class NetBackend {
public:
    virtual ~NetBackend() = default;
    // Non-blocking; one packet (header + frame) per read and per write.
    virtual int fd() const = 0;
    // Offload features (virtio's HOST_TSO*/GUEST_TSO* bits) the backend can
    // carry: the device offers them besides its own.
    virtual uint64_t offload_features() const { return 0; }
    // The driver's negotiated features: the backend may hand over packets
    // with NEEDS_CSUM only with GUEST_CSUM, and GSO packets only with the
    // matching GUEST_TSO bit.
    virtual void set_offloads(uint64_t driver_features) = 0;
    // The driver set DRIVER_OK: a backend that starts lazily starts now.
    virtual void activate() {}
};

class VirtioNet final : public VirtioDevice {
public:
    // kick_fd: an eventfd that wakes the I/O thread.
    VirtioNet(const uint8_t mac[6], NetBackend& backend, int kick_fd);

    const char* name() const override { return "net"; }
    uint32_t device_id() const override { return virtio::kDeviceNet; }
    uint64_t features() const override;
    uint16_t queue_count() const override { return 2; }
    Bytes config() const override;
    Result<void> notify(VirtioMmio& transport, uint16_t q) override;
    void driver_ok(VirtioMmio& transport) override;
    void reset() override;

    // ---- the I/O thread's side, each with transport.lock() held ----
    // Sends what the driver queued on transmitq. Returns true when the
    // backend refused for now (EAGAIN): wait until its fd is writable.
    bool transmit(VirtioMmio& transport);
    // Moves packets from the backend into receiveq buffers. Returns true
    // when it stopped for lack of receive buffers (wait for a notification
    // instead of polling the backend).
    bool receive(VirtioMmio& transport);

    // Counters for --stats (kicks: notifications from the driver, passes:
    // wake-ups of the I/O thread that found the device live).
    uint64_t tx_packets = 0, rx_packets = 0, dropped = 0, kicks = 0, passes = 0;

private:
    // Copies the pending packet into receive chains; false when the driver
    // has not offered enough buffers yet.
    bool deliver_pending(VirtioMmio& transport);

    NetBackend& backend_;
    int kick_fd_;
    virtio::NetConfig config_ = {};
    // A packet read from the backend that waits for receive buffers.
    uint32_t pending_len_ = 0;
    bool dropped_logged_ = false;
    bool refused_logged_ = false;
};

}  // namespace kiln::vmm
