// Split virtqueue, device side (virtio 1.2 §2.7). The rings live in guest
// memory and are written by an untrusted driver: every index, address and
// length read from them is checked, each descriptor is read once, and a chain
// is never longer than the queue (so a loop in `next` ends as an error).
#pragma once

#include <stdint.h>

#include "abi/virtio.h"
#include "guest_memory.h"
#include "kiln/result.h"

namespace kiln::vmm {

inline constexpr uint16_t kQueueSizeMax = 256;

struct ChainBuffer {
    uint8_t* data;   // host view of the guest buffer, bounds-checked
    uint32_t len;
    bool device_writable;
};

// One descriptor chain taken from the available ring.
struct DescChain {
    uint16_t head = 0;
    uint16_t count = 0;
    ChainBuffer bufs[kQueueSizeMax];
};

class Virtqueue {
public:
    // Transport-written configuration (§4.2.2 QueueNum, QueueDesc*, ...).
    uint16_t size = 0;
    uint64_t desc_gpa = 0;
    uint64_t avail_gpa = 0;
    uint64_t used_gpa = 0;

    bool ready() const { return ready_; }
    // Checks size and ring placement (§2.7: alignment 16/2/4, power-of-two
    // size) and makes the queue live. EINVAL/EFAULT on bad values.
    Result<void> activate(const GuestMemory& mem, bool event_idx);
    // Back to the reset state (§4.2.2.1: QueueReady 0, all values cleared).
    void reset();

    // The next available chain into *out: true, false when none is
    // available, or an error for a malformed chain or ring index.
    Result<bool> pop(const GuestMemory& mem, DescChain* out);
    // Returns chain `head` to the driver with `len` bytes written into it.
    void push_used(uint16_t head, uint32_t len);
    // With EVENT_IDX: ask for a notification at the next available buffer.
    void publish_avail_event();
    // True when the driver has made a chain available that pop() has not taken.
    bool has_avail() const;
    // Gives back the last n chains pop() returned (not yet pushed as used):
    // the next pop() reads them again from the ring.
    void unpop(uint16_t n) { last_avail_ = static_cast<uint16_t>(last_avail_ - n); }
    // For a device working asynchronously, before it goes to sleep: asks for
    // a notification at the next available buffer and then looks again, so
    // a buffer made available in between is not missed. True when there is
    // work after all (process it instead of sleeping).
    bool arm_notify();
    // True when the driver wants an interrupt for the buffers used since
    // the last call (§2.7.7.2: used_event with EVENT_IDX, else the flag).
    bool should_interrupt();

private:
    bool ready_ = false;
    bool event_idx_ = false;
    uint16_t last_avail_ = 0;
    uint16_t used_idx_ = 0;
    uint16_t signalled_used_ = 0;
    virtio::Desc* desc_ = nullptr;
    virtio::AvailHeader* avail_ = nullptr;
    uint16_t* avail_ring_ = nullptr;  // ring[size], then used_event
    virtio::UsedHeader* used_ = nullptr;
    virtio::UsedElem* used_ring_ = nullptr;  // ring[size], then avail_event
};

}  // namespace kiln::vmm
