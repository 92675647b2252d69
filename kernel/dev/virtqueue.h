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

private:
    virtio::Desc* desc() const;
    virtio::AvailHeader* avail() const;
    uint16_t* avail_ring() const;
    virtio::UsedHeader* used() const;
    virtio::UsedElem* used_ring() const;

    uint64_t phys_ = 0;
    uint8_t* mem_ = nullptr;
    uint16_t size_ = 0;
    uint32_t avail_off_ = 0, used_off_ = 0;
    uint16_t free_head_ = 0, free_count_ = 0;
    uint16_t avail_idx_ = 0, last_used_ = 0;
    uint16_t chain_len_[kMaxSize] = {};
};

}  // namespace kiln::dev
