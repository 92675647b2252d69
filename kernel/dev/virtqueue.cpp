#include "dev/virtqueue.h"

#include "arch/x86_64/paging.h"
#include "mm/memory.h"

namespace kiln::dev {
namespace {
inline void fence() {
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
}
}  // namespace

virtio::Desc* Virtqueue::desc() const {
    return reinterpret_cast<virtio::Desc*>(mem_);
}
virtio::AvailHeader* Virtqueue::avail() const {
    return reinterpret_cast<virtio::AvailHeader*>(mem_ + avail_off_);
}
uint16_t* Virtqueue::avail_ring() const {
    return reinterpret_cast<uint16_t*>(mem_ + avail_off_ + 4);
}
virtio::UsedHeader* Virtqueue::used() const {
    return reinterpret_cast<virtio::UsedHeader*>(mem_ + used_off_);
}
virtio::UsedElem* Virtqueue::used_ring() const {
    return reinterpret_cast<virtio::UsedElem*>(mem_ + used_off_ + 4);
}

volatile uint16_t* Virtqueue::used_event() const {
    return reinterpret_cast<volatile uint16_t*>(mem_ + avail_off_ + 4 + 2 * size_);
}
volatile uint16_t* Virtqueue::avail_event() const {
    return reinterpret_cast<volatile uint16_t*>(mem_ + used_off_ + 4 + 8 * size_);
}

bool Virtqueue::kick_needed() {
    fence();  // the new index before reading the device's request (§2.7.13.3)
    const uint16_t old = kicked_idx_;
    const uint16_t now = avail_idx_;
    if (old == now) return false;
    kicked_idx_ = now;
    if (event_idx_) return virtio::need_event(*avail_event(), now, old);
    return !(*reinterpret_cast<volatile uint16_t*>(&used()->flags) & virtio::kUsedNoNotify);
}

bool Virtqueue::enable_interrupts() {
    if (event_idx_) {
        *used_event() = last_used_;
    } else {
        avail()->flags = 0;
    }
    fence();  // publish before checking for a chain that beat it
    return has_used();
}

void Virtqueue::disable_interrupts() {
    if (event_idx_) {
        // An index just behind: the device reaches it only after 64 Ki
        // more chains, by which time the driver has moved it.
        *used_event() = uint16_t(last_used_ - 1);
    } else {
        avail()->flags = virtio::kAvailNoInterrupt;
    }
}

Result<void> Virtqueue::init(uint16_t size) {
    if (size == 0 || size > kMaxSize || (size & (size - 1))) return Error(Errno::kEINVAL);
    // Descriptors (16-byte aligned), then the driver ring (2), then the
    // device ring (4): §2.7's alignment rules; 128 entries fit two pages.
    avail_off_ = uint32_t(virtio::desc_table_size(size));
    used_off_ = uint32_t((avail_off_ + virtio::avail_ring_size(size) + 3) & ~3ull);
    uint64_t bytes = used_off_ + virtio::used_ring_size(size);
    uint64_t pages = (bytes + mm::kPageSize - 1) / mm::kPageSize;
    phys_ = TRY(mm::frames().alloc(pages));
    mem_ = static_cast<uint8_t*>(arch::phys_to_virt(phys_));
    for (uint64_t i = 0; i < pages * mm::kPageSize; i++) mem_[i] = 0;
    size_ = size;
    for (uint16_t i = 0; i < size; i++) desc()[i].next = uint16_t(i + 1);
    free_head_ = 0;
    free_count_ = size;
    avail_idx_ = last_used_ = kicked_idx_ = 0;
    // The kernel polls for completions; no interrupt per buffer.
    avail()->flags = virtio::kAvailNoInterrupt;
    return {};
}

Result<uint16_t> Virtqueue::add(const BufferRef* bufs, size_t n) {
    if (n == 0 || n > free_count_) return Error(Errno::kEAGAIN);
    uint16_t head = free_head_;
    uint16_t id = head;
    for (size_t i = 0; i < n; i++) {
        virtio::Desc& d = desc()[id];
        d.addr = bufs[i].phys;
        d.len = bufs[i].len;
        d.flags = uint16_t((bufs[i].device_writes ? virtio::kDescWrite : 0) |
                           (i + 1 < n ? virtio::kDescNext : 0));
        if (i + 1 < n) id = d.next;
    }
    free_head_ = desc()[id].next;
    free_count_ = uint16_t(free_count_ - n);
    chain_len_[head] = uint16_t(n);
    avail_ring()[avail_idx_ % size_] = head;
    fence();  // the descriptors before the index (§2.7.13)
    avail_idx_++;
    avail()->idx = avail_idx_;
    fence();
    return head;
}

bool Virtqueue::has_used() const {
    return *reinterpret_cast<volatile uint16_t*>(&used()->idx) != last_used_;
}

bool Virtqueue::take_used(uint16_t* id, uint32_t* len) {
    if (!has_used()) return false;
    fence();
    const virtio::UsedElem e = used_ring()[last_used_ % size_];
    last_used_++;
    if (e.id >= size_ || chain_len_[e.id] == 0) return false;  // a device bug; drop it
    // Return the chain to the free list.
    uint16_t last = uint16_t(e.id);
    for (uint16_t i = 1; i < chain_len_[e.id]; i++) last = desc()[last].next;
    desc()[last].next = free_head_;
    free_head_ = uint16_t(e.id);
    free_count_ = uint16_t(free_count_ + chain_len_[e.id]);
    chain_len_[e.id] = 0;
    *id = uint16_t(e.id);
    *len = e.len;
    return true;
}

}  // namespace kiln::dev
