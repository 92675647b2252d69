// The virtio-mmio transport, driver side (virtio 1.2 §4.2, version 2 only):
// device discovery from the command line, status and feature negotiation
// (§3.1.1), queue set-up. Every register access is an exit to the monitor,
// so the sequence does only what the specification requires.
#pragma once

#include <stdint.h>

#include "dev/virtqueue.h"
#include "kiln/result.h"

namespace kiln::dev {

class VirtioMmio {
public:
    // Finds the first device of `device_id` among the command line's
    // `virtio_mmio.device=` entries. ENODEV when there is none.
    Result<void> find(const char* cmdline, uint32_t device_id);
    // Resets, acknowledges, and negotiates: VERSION_1 plus `wanted` & offered.
    Result<uint64_t> negotiate(uint64_t wanted);
    Result<void> setup_queue(uint32_t index, Virtqueue& q, uint16_t max_size);
    void driver_ok();
    void notify(uint32_t queue) { write(virtio::kRegQueueNotify, queue); }
    uint32_t irq() const { return irq_; }
    // Device configuration space (§4.2.2.2: 8-, 16- and 32-bit accesses).
    uint32_t config32(uint32_t off) const { return read(virtio::kRegConfig + off); }
    uint16_t config16(uint32_t off) const {
        return *reinterpret_cast<volatile uint16_t*>(regs_ + virtio::kRegConfig + off);
    }
    uint32_t vendor() const { return read(virtio::kRegVendorId); }
    // InterruptACK for `bits` (one exit; the status is not read first).
    void ack_interrupt(uint32_t bits) { write(virtio::kRegInterruptAck, bits); }

private:
    uint32_t read(uint32_t reg) const { return *reinterpret_cast<volatile uint32_t*>(regs_ + reg); }
    void write(uint32_t reg, uint32_t v) { *reinterpret_cast<volatile uint32_t*>(regs_ + reg) = v; }
    void fail();

    volatile uint8_t* regs_ = nullptr;
    uint32_t irq_ = 0;
    uint32_t status_ = 0;
};

}  // namespace kiln::dev
