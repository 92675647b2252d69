#include "virtqueue.h"

#include <errno.h>

namespace kiln::vmm {

namespace {

template <typename T>
T load_acquire(const T* p) {
    return __atomic_load_n(p, __ATOMIC_ACQUIRE);
}

}  // namespace

Result<void> Virtqueue::activate(const GuestMemory& mem, bool event_idx) {
    if (size == 0 || size > kQueueSizeMax || (size & (size - 1)) != 0) {
        return Error(Errno::kEINVAL);
    }
    if (desc_gpa % 16 != 0 || avail_gpa % 2 != 0 || used_gpa % 4 != 0) {
        return Error(Errno::kEINVAL);
    }
    // The event fields sit right after each ring; check them in even when
    // EVENT_IDX is off, a driver must allocate them either way (§2.7).
    Span<uint8_t> d = TRY(mem.span(desc_gpa, virtio::desc_table_size(size)));
    Span<uint8_t> a = TRY(mem.span(avail_gpa, virtio::avail_ring_size(size)));
    Span<uint8_t> u = TRY(mem.span(used_gpa, virtio::used_ring_size(size)));
    // SAFETY: each span covers the whole ring at the alignment checked above,
    // and the ring types are plain fixed-width structs valid for any bytes.
    desc_ = reinterpret_cast<virtio::Desc*>(d.data());
    avail_ = reinterpret_cast<virtio::AvailHeader*>(a.data());
    avail_ring_ = reinterpret_cast<uint16_t*>(a.data() + sizeof(virtio::AvailHeader));
    used_ = reinterpret_cast<virtio::UsedHeader*>(u.data());
    used_ring_ = reinterpret_cast<virtio::UsedElem*>(u.data() + sizeof(virtio::UsedHeader));
    event_idx_ = event_idx;
    last_avail_ = 0;
    used_idx_ = 0;
    signalled_used_ = 0;
    ready_ = true;
    return {};
}

void Virtqueue::reset() { *this = Virtqueue(); }

Result<bool> Virtqueue::pop(const GuestMemory& mem, DescChain* out) {
    if (!ready_) return false;
    uint16_t avail_idx = load_acquire(&avail_->idx);
    if (avail_idx == last_avail_) return false;
    // The driver can be at most `size` buffers ahead (§2.7.13).
    if (static_cast<uint16_t>(avail_idx - last_avail_) > size) return Error(Errno::kEINVAL);
    uint16_t head = static_cast<const volatile uint16_t*>(avail_ring_)[last_avail_ % size];
    if (head >= size) return Error(Errno::kEINVAL);

    out->head = head;
    out->count = 0;
    uint16_t i = head;
    bool seen_writable = false;
    for (;;) {
        if (out->count >= size) return Error(Errno::kELOOP);  // a loop in `next`
        // One read of the descriptor, forced through volatile so the compiler
        // cannot fetch a field again from guest memory after its check.
        const volatile virtio::Desc& shared = desc_[i];
        virtio::Desc d;
        d.addr = shared.addr;
        d.len = shared.len;
        d.flags = shared.flags;
        d.next = shared.next;
        if (d.flags & virtio::kDescIndirect) return Error(Errno::kEINVAL);  // not offered
        bool writable = (d.flags & virtio::kDescWrite) != 0;
        // §2.7.4.2: device-writable descriptors come after device-readable ones.
        if (seen_writable && !writable) return Error(Errno::kEINVAL);
        seen_writable |= writable;
        Span<uint8_t> buf = TRY(mem.span(d.addr, d.len));
        out->bufs[out->count++] = ChainBuffer{buf.data(), d.len, writable};
        if (!(d.flags & virtio::kDescNext)) break;
        if (d.next >= size) return Error(Errno::kEINVAL);
        i = d.next;
    }
    ++last_avail_;
    return true;
}

void Virtqueue::push_used(uint16_t head, uint32_t len) {
    used_ring_[used_idx_ % size] = virtio::UsedElem{head, len};
    ++used_idx_;
    // The element must be visible before the index that publishes it.
    __atomic_store_n(&used_->idx, used_idx_, __ATOMIC_RELEASE);
}

void Virtqueue::publish_avail_event() {
    if (!event_idx_) return;
    // avail_event follows used ring[size] (§2.7.8).
    uint16_t* avail_event = reinterpret_cast<uint16_t*>(&used_ring_[size]);
    __atomic_store_n(avail_event, last_avail_, __ATOMIC_RELEASE);
}

bool Virtqueue::has_avail() const {
    return ready_ && load_acquire(&avail_->idx) != last_avail_;
}

bool Virtqueue::arm_notify() {
    publish_avail_event();
    // The avail_event store must be visible before we read avail->idx again:
    // otherwise the driver may see the old event and skip its notification
    // while we miss its new buffer.
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
    return has_avail();
}

bool Virtqueue::should_interrupt() {
    if (!ready_) return false;
    uint16_t old = signalled_used_;
    signalled_used_ = used_idx_;
    if (old == used_idx_) return false;
    // Our used->idx store must be ordered before reading the driver's flags.
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
    if (event_idx_) {
        uint16_t used_event = load_acquire(&avail_ring_[size]);
        return virtio::need_event(used_event, used_idx_, old);
    }
    return !(load_acquire(&avail_->flags) & virtio::kAvailNoInterrupt);
}

}  // namespace kiln::vmm
