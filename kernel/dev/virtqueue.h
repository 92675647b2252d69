// The driver side of a split virtqueue (virtio 1.2 §2.7): one
// implementation for every device. Buffers are physical addresses; the
// queue memory comes from the frame allocator.
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "abi/virtio.h"
#include "kiln/result.h"

namespace kiln::dev {

struct BufferRef {
    uint64_t phys;
    uint32_t len;
    bool device_writes;  // a receive buffer
};

class Virtqueue {
public:
    static constexpr uint16_t kMaxSize = 128;

    // Allocates rings for `size` entries (a power of two <= kMaxSize).
    Result<void> init(uint16_t size);
    uint16_t size() const { return size_; }
    uint64_t desc_phys() const { return phys_; }
    uint64_t avail_phys() const { return phys_ + avail_off_; }
    uint64_t used_phys() const { return phys_ + used_off_; }

    // Makes one chain of `n` buffers available; returns its head id.
    // EAGAIN when not enough descriptors are free.
    Result<uint16_t> add(const BufferRef* bufs, size_t n);
    // Takes one used chain: its head id and the length the device wrote.
    // False when none is pending.
    bool take_used(uint16_t* id, uint32_t* len);
    bool has_used() const;
    size_t free_descriptors() const { return free_count_; }
    // The head id the next add() uses (drivers whose chains are one
    // descriptor each tie a buffer to each id).
    uint16_t next_head() const { return free_head_; }

    // Notification suppression (§2.7.7, §2.7.10). With EVENT_IDX
    // negotiated the device reads used_event and writes avail_event;
    // without it the flags say the same more coarsely.
    void set_event_idx(bool on) { event_idx_ = on; }
    // Whether the device wants a notification for the chains added since
    // the last call that answered true (a kick costs a VM exit: callers add
    // a batch, then ask once).
    bool kick_needed();
    // Asks for an interrupt when the next used chain arrives; true when
    // one already has (the caller processes it instead of waiting).
    bool enable_interrupts();
    // Asks for no interrupts (the driver polls, or reaps lazily).
    void disable_interrupts();

private:
    virtio::Desc* desc() const;
    virtio::AvailHeader* avail() const;
    uint16_t* avail_ring() const;
    virtio::UsedHeader* used() const;
    virtio::UsedElem* used_ring() const;
    volatile uint16_t* used_event() const;   // in the driver area, after the ring
    volatile uint16_t* avail_event() const;  // in the device area, after the ring

    uint64_t phys_ = 0;
    uint8_t* mem_ = nullptr;
    uint16_t size_ = 0;
    uint32_t avail_off_ = 0, used_off_ = 0;
    uint16_t free_head_ = 0, free_count_ = 0;
    uint16_t avail_idx_ = 0, last_used_ = 0;
    uint16_t kicked_idx_ = 0;  // avail_idx_ at the last kick
    bool event_idx_ = false;
    uint16_t chain_len_[kMaxSize] = {};
};

}  // namespace kiln::dev
