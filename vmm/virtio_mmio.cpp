// virtio 1.2 §4.2.2 (MMIO device register layout) and §4.2.3.1 (device
// initialization), §2.1 (status), §2.2 (feature bits).
#include "virtio_mmio.h"

#include "abi/virtio.h"
#include "log.h"

#include <errno.h>
#include <string.h>

namespace kiln::vmm {

namespace {

constexpr uint32_t kVendorId = 0x4e4c494b;  // "KILN"

uint32_t le_load(const uint8_t* p, uint32_t len) {
    uint32_t v = 0;
    for (uint32_t i = 0; i < len && i < 4; ++i) v |= static_cast<uint32_t>(p[i]) << (8 * i);
    return v;
}

void le_store(uint8_t* p, uint32_t len, uint32_t v) {
    for (uint32_t i = 0; i < len; ++i) p[i] = i < 4 ? static_cast<uint8_t>(v >> (8 * i)) : 0;
}

const char* chain_error(int err) {
    switch (err) {
        case EFAULT: return "a ring or buffer lies outside guest RAM";
        case ELOOP: return "a descriptor chain is longer than the queue (loop)";
        default: return "a ring index, descriptor index or flag is invalid";
    }
}

}  // namespace

uint64_t VirtioMmio::offered_features() const {
    return dev_.features() | virtio::kFeatureVersion1 | virtio::kFeatureEventIdx;
}

Virtqueue* VirtioMmio::selected() {
    return queue_sel_ < dev_.queue_count() && queue_sel_ < kMaxQueues ? &queues_[queue_sel_]
                                                                       : nullptr;
}

void VirtioMmio::read(uint64_t offset, uint8_t* data, uint32_t len) {
    std::lock_guard<std::mutex> guard(lock_);
    if (offset >= virtio::kRegConfig) {
        // Config space allows 8-, 16- and 32-bit accesses (§4.2.2.2).
        Bytes cfg = dev_.config();
        uint64_t off = offset - virtio::kRegConfig;
        for (uint32_t i = 0; i < len; ++i) data[i] = off + i < cfg.size() ? cfg[off + i] : 0;
        return;
    }
    // Registers are 32-bit; other widths read as 0 (§4.2.2.2 forbids them).
    le_store(data, len, len == 4 && offset % 4 == 0 ? read_reg(offset) : 0);
}

void VirtioMmio::write(uint64_t offset, const uint8_t* data, uint32_t len) {
    if (offset >= virtio::kRegConfig) return;  // console and net config are read-only
    std::lock_guard<std::mutex> guard(lock_);
    if (len != 4 || offset % 4 != 0) return;
    write_reg(offset, le_load(data, len));
}

uint32_t VirtioMmio::read_reg(uint64_t offset) {
    switch (offset) {
        case virtio::kRegMagic: return virtio::kMagic;
        case virtio::kRegVersion: return virtio::kMmioVersion;
        case virtio::kRegDeviceId: return dev_.device_id();
        case virtio::kRegVendorId: return kVendorId;
        case virtio::kRegDeviceFeatures:
            return device_features_sel_ < 2
                       ? static_cast<uint32_t>(offered_features() >> (32 * device_features_sel_))
                       : 0;
        case virtio::kRegQueueNumMax: return selected() != nullptr ? kQueueSizeMax : 0;
        case virtio::kRegQueueReady: return selected() != nullptr && selected()->ready();
        case virtio::kRegInterruptStatus: return interrupt_status_;
        case virtio::kRegStatus: return status_;
        case virtio::kRegConfigGeneration: return config_generation_;
        default: return 0;
    }
}

void VirtioMmio::write_reg(uint64_t offset, uint32_t v) {
    Virtqueue* q = selected();
    // Queue registers may only change while the queue is not ready (§4.2.2.3).
    bool q_writable = q != nullptr && !q->ready();
    switch (offset) {
        case virtio::kRegDeviceFeaturesSel: device_features_sel_ = v; break;
        case virtio::kRegDriverFeaturesSel: driver_features_sel_ = v; break;
        case virtio::kRegDriverFeatures:
            if (driver_features_sel_ < 2 && !(status_ & virtio::kStatusFeaturesOk)) {
                unsigned shift = 32 * driver_features_sel_;
                driver_features_ = (driver_features_ & ~(0xffffffffull << shift)) |
                                   (static_cast<uint64_t>(v) << shift);
            }
            break;
        case virtio::kRegQueueSel: queue_sel_ = v; break;
        case virtio::kRegQueueNum:
            if (q_writable) q->size = static_cast<uint16_t>(v <= kQueueSizeMax ? v : 0);
            break;
        case virtio::kRegQueueDescLow: if (q_writable) q->desc_gpa = (q->desc_gpa >> 32 << 32) | v; break;
        case virtio::kRegQueueDescHigh: if (q_writable) q->desc_gpa = (q->desc_gpa & 0xffffffffu) | (uint64_t{v} << 32); break;
        case virtio::kRegQueueDriverLow: if (q_writable) q->avail_gpa = (q->avail_gpa >> 32 << 32) | v; break;
        case virtio::kRegQueueDriverHigh: if (q_writable) q->avail_gpa = (q->avail_gpa & 0xffffffffu) | (uint64_t{v} << 32); break;
        case virtio::kRegQueueDeviceLow: if (q_writable) q->used_gpa = (q->used_gpa >> 32 << 32) | v; break;
        case virtio::kRegQueueDeviceHigh: if (q_writable) q->used_gpa = (q->used_gpa & 0xffffffffu) | (uint64_t{v} << 32); break;
        case virtio::kRegQueueReady:
            if (q == nullptr) break;
            if (v == 0) {
                q->reset();
            } else if (!q->ready()) {
                bool event_idx = (driver_features_ & virtio::kFeatureEventIdx) != 0;
                auto r = q->activate(mem_, event_idx);
                if (!r.ok()) needs_reset("queue set-up", static_cast<int>(r.error()));
            }
            break;
        case virtio::kRegQueueNotify:
            if (!(status_ & virtio::kStatusDriverOk) || (status_ & virtio::kStatusNeedsReset)) break;
            if (v < dev_.queue_count() && v < kMaxQueues) {
                auto r = dev_.notify(*this, static_cast<uint16_t>(v));
                if (!r.ok()) needs_reset("queue processing", static_cast<int>(r.error()));
            }
            break;
        case virtio::kRegInterruptAck:
            interrupt_status_ &= ~v;
            if (interrupt_status_ == 0 && line_high_) {
                ioapic_.set_level(irq_, false);
                line_high_ = false;
            }
            break;
        case virtio::kRegStatus: set_status(v); break;
        default: break;
    }
}

void VirtioMmio::set_status(uint32_t v) {
    if (v == 0) {
        device_reset();
        return;
    }
    // FEATURES_OK only sticks for a subset of what was offered that includes
    // VERSION_1: this device has no legacy interface (§2.2.1, §6.1).
    if ((v & virtio::kStatusFeaturesOk) && !(status_ & virtio::kStatusFeaturesOk)) {
        bool subset = (driver_features_ & ~offered_features()) == 0;
        bool modern = (driver_features_ & virtio::kFeatureVersion1) != 0;
        if (!subset || !modern) v &= ~virtio::kStatusFeaturesOk;
    }
    bool was_ok = (status_ & virtio::kStatusDriverOk) != 0;
    status_ = v | (status_ & virtio::kStatusNeedsReset);
    if (!was_ok && (status_ & virtio::kStatusDriverOk)) dev_.driver_ok(*this);
}

bool VirtioMmio::live() const {
    return (status_ & virtio::kStatusDriverOk) && !(status_ & virtio::kStatusNeedsReset);
}

void VirtioMmio::device_error(const char* what) {
    if (status_ & virtio::kStatusNeedsReset) return;  // said once per reset
    log("virtio-%s: %s; device needs reset", dev_.name(), what);
    status_ |= virtio::kStatusNeedsReset;
    if (status_ & virtio::kStatusDriverOk) raise(virtio::kIntConfigChange);
}

void VirtioMmio::device_reset() {
    for (Virtqueue& q : queues_) q.reset();
    dev_.reset();
    status_ = 0;
    driver_features_ = 0;
    device_features_sel_ = driver_features_sel_ = queue_sel_ = 0;
    interrupt_status_ = 0;
    if (line_high_) {
        ioapic_.set_level(irq_, false);
        line_high_ = false;
    }
}

void VirtioMmio::needs_reset(const char* what, int err) {
    log("virtio-%s: %s failed: %s; device needs reset", dev_.name(), what, chain_error(err));
    status_ |= virtio::kStatusNeedsReset;
    // §2.1.2: a device entering DEVICE_NEEDS_RESET sends a config change
    // notification when DRIVER_OK is set.
    if (status_ & virtio::kStatusDriverOk) raise(virtio::kIntConfigChange);
}

void VirtioMmio::used_buffers(uint16_t q) {
    if (queues_[q].should_interrupt()) raise(virtio::kIntUsedBuffer);
}

void VirtioMmio::raise(uint32_t bits) {
    ++interrupts_;
    interrupt_status_ |= bits;
    // The line stays high until InterruptACK clears every bit (level
    // semantics); each raise with new work delivers again, so an edge
    // programmed pin never misses work that came in before the ACK.
    ioapic_.set_level(irq_, true);
    line_high_ = true;
}

}  // namespace kiln::vmm
