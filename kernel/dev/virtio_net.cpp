// virtio-net driver (virtio_net.h), virtio 1.2 §5.1.6: every packet in
// both directions starts with a 12-byte virtio_net_hdr (num_buffers
// included with VERSION_1). Each buffer is one descriptor of kBufSize
// bytes tied to its descriptor id, so a used id names its buffer.
#include "dev/virtio_net.h"

#include "abi/virtio.h"
#include "arch/x86_64/arch.h"
#include "arch/x86_64/lapic.h"
#include "arch/x86_64/paging.h"
#include "dev/ioapic.h"
#include "klog.h"
#include "mm/heap.h"
#include "mm/memory.h"
#include "mm/new.h"

namespace kiln::dev {
namespace {

constexpr uint8_t kVector = 0x50;
constexpr uint16_t kQueueSize = 128;
constexpr uint32_t kBufSize = 2048;  // a whole Ethernet frame and its header
constexpr size_t kHdr = sizeof(virtio::NetHdr);
constexpr size_t kMaxFrame = 65536;  // what a merged receive may assemble
constexpr size_t kRefillBatch = 16;  // receive buffers given back per kick

VirtioNet* g_nic = nullptr;

}  // namespace

void VirtioNet::operator delete(void* p) {
    mm::heap_free(p);
}

VirtioNet* VirtioNet::probe(const char* cmdline, void (*on_interrupt)()) {
    if (g_nic != nullptr) return g_nic;
    auto* nic = mm::make<VirtioNet>();
    if (nic == nullptr) return nullptr;
    nic->on_interrupt_ = on_interrupt;
    if (auto r = nic->start(cmdline); !r.ok()) {
        if (r.error() != Errno::kENODEV)
            klog::error("kiln: virtio-net: cannot start: %s", errno_name(r.error()));
        mm::destroy(nic);
        return nullptr;
    }
    g_nic = nic;
    return nic;
}

Result<void> VirtioNet::start(const char* cmdline) {
    TRY(transport_.find(cmdline, virtio::kDeviceNet));
    const uint64_t wanted = virtio::kNetFeatureMac | virtio::kNetFeatureCsum |
                            virtio::kNetFeatureGuestCsum | virtio::kNetFeatureMrgRxbuf |
                            virtio::kNetFeatureStatus | virtio::kFeatureEventIdx;
    const uint64_t features = TRY(transport_.negotiate(wanted));
    csum_offload_ = features & virtio::kNetFeatureCsum;
    status_feature_ = features & virtio::kNetFeatureStatus;
    const bool event_idx = features & virtio::kFeatureEventIdx;
    if (features & virtio::kNetFeatureMac) {
        uint32_t lo = transport_.config32(0);
        uint16_t hi = transport_.config16(4);
        for (int i = 0; i < 4; i++) mac_.b[i] = uint8_t(lo >> (8 * i));
        mac_.b[4] = uint8_t(hi);
        mac_.b[5] = uint8_t(hi >> 8);
    } else {
        // A locally administered address of our own (§5.1.5: the driver
        // picks one when the device has none).
        const uint8_t fallback[6] = {0x52, 0x54, 0x00, 0x6b, 0x69, 0x6c};
        for (int i = 0; i < 6; i++) mac_.b[i] = fallback[i];
    }
    // kiln-vmm interrupts again for new work without an acknowledgement:
    // skipping it saves an exit per interrupt (lib/abi/virtio.h).
    ack_interrupts_ = transport_.vendor() != virtio::kKilnVendorId;
    TRY(transport_.setup_queue(virtio::kNetReceiveq, rxq_, kQueueSize));
    TRY(transport_.setup_queue(virtio::kNetTransmitq, txq_, kQueueSize));
    rxq_.set_event_idx(event_idx);
    txq_.set_event_idx(event_idx);
    const uint64_t rx_pages = uint64_t(rxq_.size()) * kBufSize / mm::kPageSize;
    const uint64_t tx_pages = uint64_t(txq_.size()) * kBufSize / mm::kPageSize;
    rx_phys_ = TRY(mm::frames().alloc(rx_pages));
    tx_phys_ = TRY(mm::frames().alloc(tx_pages));
    rx_mem_ = static_cast<uint8_t*>(arch::phys_to_virt(rx_phys_));
    tx_mem_ = static_cast<uint8_t*>(arch::phys_to_virt(tx_phys_));
    // Interrupts: receive only; transmit completions are reaped lazily.
    txq_.disable_interrupts();
    arch::lapic_enable();
    arch::set_irq_handler(kVector, on_irq);
    TRY(ioapic_route(transport_.irq(), kVector));
    {
        arch::IrqGuard g;
        refill();
        (void)rxq_.enable_interrupts();
    }
    transport_.driver_ok();
    if (rxq_.kick_needed()) transport_.notify(virtio::kNetReceiveq);
    klog::info("kiln: virtio-net %02x:%02x:%02x:%02x:%02x:%02x, irq %u, csum %s, event-idx %s",
               mac_.b[0], mac_.b[1], mac_.b[2], mac_.b[3], mac_.b[4], mac_.b[5], transport_.irq(),
               csum_offload_ ? "on" : "off", event_idx ? "on" : "off");
    return {};
}

void VirtioNet::on_irq(arch::TrapFrame&) {
    VirtioNet* nic = g_nic;
    if (nic != nullptr) {
        // One exit, or none on kiln-vmm: the status is not read, both
        // causes are acknowledged (a configuration change only means the
        // link status moved).
        if (nic->ack_interrupts_)
            nic->transport_.ack_interrupt(virtio::kIntUsedBuffer | virtio::kIntConfigChange);
        // No more until poll() has drained the ring.
        nic->rxq_.disable_interrupts();
    }
    arch::lapic_eoi();
    if (nic != nullptr && nic->on_interrupt_ != nullptr) nic->on_interrupt_();
}

bool VirtioNet::link_up() const {
    if (!status_feature_) return true;
    return transport_.config16(6) & virtio::kNetStatusLinkUp;
}

void VirtioNet::refill() {
    while (rxq_.free_descriptors() > 0) {
        const uint16_t id = rxq_.next_head();
        BufferRef b{rx_phys_ + uint64_t(id) * kBufSize, kBufSize, true};
        if (!rxq_.add(&b, 1).ok()) break;
    }
}

void VirtioNet::reap_tx() {
    uint16_t id;
    uint32_t len;
    while (txq_.take_used(&id, &len)) {
    }
}

Result<void> VirtioNet::transmit(const net::TxFrame& frame) {
    if (frame.data.size() == 0 || frame.data.size() > kBufSize - kHdr)
        return Error(Errno::kEMSGSIZE);
    if (txq_.free_descriptors() == 0) reap_tx();
    if (txq_.free_descriptors() == 0) {
        // The device is behind: a kick may be owed for what is queued.
        flush();
        reap_tx();
        if (txq_.free_descriptors() == 0) return Error(Errno::kEAGAIN);
    }
    const uint16_t id = txq_.next_head();
    uint8_t* slot = tx_mem_ + uint64_t(id) * kBufSize;
    virtio::NetHdr h = {};
    if (frame.needs_csum && csum_offload_) {
        h.flags = virtio::kNetHdrNeedsCsum;
        h.csum_start = frame.csum_start;
        h.csum_offset = frame.csum_offset;
    }
    h.gso_type = virtio::kNetGsoNone;
    __builtin_memcpy(slot, &h, kHdr);
    __builtin_memcpy(slot + kHdr, frame.data.data(), frame.data.size());
    BufferRef b{tx_phys_ + uint64_t(id) * kBufSize, uint32_t(kHdr + frame.data.size()), false};
    TRY(txq_.add(&b, 1));
    tx_pending_ = true;
    return {};
}

void VirtioNet::flush() {
    if (!tx_pending_) return;
    tx_pending_ = false;
    if (txq_.kick_needed()) transport_.notify(virtio::kNetTransmitq);
}

size_t VirtioNet::poll(void (*deliver)(void*, Span<const uint8_t>, bool), void* ctx) {
    size_t frames = 0;
    for (;;) {
        uint16_t id;
        uint32_t len;
        while (rxq_.take_used(&id, &len)) {
            const uint8_t* buf = rx_mem_ + uint64_t(id) * kBufSize;
            if (len < kHdr || len > kBufSize) {
                dropped_++;
                continue;
            }
            virtio::NetHdr h;
            __builtin_memcpy(&h, buf, kHdr);
            // NEEDS_CSUM: a partial checksum from a local peer, which Linux
            // counts as verified too.
            const bool csum_ok = h.flags & (virtio::kNetHdrDataValid | virtio::kNetHdrNeedsCsum);
            uint16_t nbuf = h.num_buffers == 0 ? 1 : h.num_buffers;
            if (nbuf == 1) {
                deliver(ctx, Span<const uint8_t>(buf + kHdr, len - kHdr), csum_ok);
                frames++;
            } else {
                // Mergeable buffers: gather the rest of the frame.
                if (assembly_ == nullptr)
                    assembly_ = static_cast<uint8_t*>(mm::heap_alloc(kMaxFrame, 16));
                size_t n = 0;
                bool ok = assembly_ != nullptr;
                if (ok) {
                    __builtin_memcpy(assembly_, buf + kHdr, len - kHdr);
                    n = len - kHdr;
                }
                for (uint16_t i = 1; i < nbuf; i++) {
                    uint16_t id2;
                    uint32_t len2;
                    if (!rxq_.take_used(&id2, &len2)) {
                        ok = false;  // the device promised more than it gave
                        break;
                    }
                    if (!ok || len2 > kBufSize || n + len2 > kMaxFrame) {
                        ok = false;
                        continue;
                    }
                    __builtin_memcpy(assembly_ + n, rx_mem_ + uint64_t(id2) * kBufSize, len2);
                    n += len2;
                }
                if (ok) {
                    deliver(ctx, Span<const uint8_t>(assembly_, n), csum_ok);
                    frames++;
                } else {
                    dropped_++;
                }
            }
            if (rxq_.free_descriptors() >= kRefillBatch) refill();
        }
        refill();
        if (rxq_.kick_needed()) transport_.notify(virtio::kNetReceiveq);
        // Re-arm, then look again: a frame that came in between is taken
        // now rather than left waiting for an interrupt that will not come.
        if (!rxq_.enable_interrupts()) break;
    }
    reap_tx();
    return frames;
}

}  // namespace kiln::dev
