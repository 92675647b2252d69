// virtio-mmio transport, version 2 (virtio 1.2 §4.2.2): the register file of
// one device slot, feature and status negotiation, queue set-up, and used
// buffer interrupts on the device's I/O APIC pin. Device models plug in
// through VirtioDevice.
//
// Locking: the vCPU thread's register accesses (read/write) take lock();
// a device that moves buffers on another thread (virtio-net's I/O thread)
// holds lock() for the whole of each pass over its queues, so queue state,
// status and interrupt bits only ever change under it.
#pragma once

#include <stdint.h>

#include <mutex>

#include "guest_memory.h"
#include "kiln/span.h"
#include "ioapic.h"
#include "virtqueue.h"

namespace kiln::vmm {

class VirtioMmio;

class VirtioDevice {
public:
    virtual ~VirtioDevice() = default;
    virtual const char* name() const = 0;
    virtual uint32_t device_id() const = 0;
    // Device-specific feature bits; the transport adds VERSION_1 and EVENT_IDX.
    virtual uint64_t features() const = 0;
    virtual uint16_t queue_count() const = 0;
    // Device configuration space (§4.2.2 "Config"), little-endian.
    virtual Bytes config() const = 0;
    // The driver notified queue q. Errors mean a malformed ring or chain:
    // the transport then marks the device DEVICE_NEEDS_RESET.
    virtual Result<void> notify(VirtioMmio& transport, uint16_t q) = 0;
    // The driver set DRIVER_OK: the negotiated features are final.
    virtual void driver_ok(VirtioMmio& /*transport*/) {}
    virtual void reset() {}
};

class VirtioMmio {
public:
    static constexpr uint16_t kMaxQueues = 2;

    VirtioMmio(const GuestMemory& mem, Ioapic& ioapic, uint32_t irq, VirtioDevice& dev)
        : mem_(mem), ioapic_(ioapic), irq_(irq), dev_(dev) {}

    // A guest access at `offset` into the device's 4 KiB window.
    void read(uint64_t offset, uint8_t* data, uint32_t len);
    void write(uint64_t offset, const uint8_t* data, uint32_t len);

    const GuestMemory& memory() const { return mem_; }
    Virtqueue& queue(uint16_t q) { return queues_[q]; }
    // After a device used buffers on queue q: interrupt if the driver wants one.
    void used_buffers(uint16_t q);

    // For devices that work outside notify() (with lock() held):
    std::mutex& lock() { return lock_; }
    uint64_t driver_features() const { return driver_features_; }
    // DRIVER_OK set and not DEVICE_NEEDS_RESET: queues may be processed.
    bool live() const;
    // A malformed chain or ring seen outside notify(): logs "virtio-NAME:
    // <what>; device needs reset" and sets DEVICE_NEEDS_RESET.
    void device_error(const char* what);
    // Interrupts raised (for --stats).
    uint64_t interrupts() const { return interrupts_; }

private:
    uint32_t read_reg(uint64_t offset);
    void write_reg(uint64_t offset, uint32_t value);
    void set_status(uint32_t value);
    void device_reset();
    void needs_reset(const char* what, int err);
    void raise(uint32_t bits);
    uint64_t offered_features() const;
    Virtqueue* selected();

    std::mutex lock_;
    const GuestMemory& mem_;
    Ioapic& ioapic_;
    uint32_t irq_;
    VirtioDevice& dev_;
    Virtqueue queues_[kMaxQueues];
    uint32_t status_ = 0;
    uint32_t device_features_sel_ = 0;
    uint32_t driver_features_sel_ = 0;
    uint64_t driver_features_ = 0;
    uint32_t queue_sel_ = 0;
    uint32_t interrupt_status_ = 0;
    uint32_t config_generation_ = 0;
    bool line_high_ = false;
    uint64_t interrupts_ = 0;
};

}  // namespace kiln::vmm
