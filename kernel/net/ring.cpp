// The growable byte ring (ring.h).
#include "net/ring.h"

#include "mm/heap.h"

namespace kiln::net {

bool Ring::reserve(size_t n) {
    if (n <= cap_) return true;
    if (n > limit_) return false;
    size_t cap = cap_ == 0 ? 4096 : cap_;
    while (cap < n) cap *= 2;
    if (cap > limit_) cap = limit_;
    auto* nb = static_cast<uint8_t*>(mm::heap_alloc(cap, 64));
    if (nb == nullptr) return false;
    // Everything up to the old capacity may hold bytes (counted ones and
    // out-of-order ones written ahead), so the whole old ring is unrolled.
    if (cap_ != 0) {
        size_t first = cap_ - head_;
        __builtin_memcpy(nb, buf_ + head_, first);
        __builtin_memcpy(nb + first, buf_, head_);
        mm::heap_free(buf_);
    }
    buf_ = nb;
    cap_ = cap;
    head_ = 0;
    return true;
}

void Ring::write_at(size_t off, const uint8_t* src, size_t n) {
    size_t pos = head_ + off;
    if (pos >= cap_) pos -= cap_;
    size_t first = cap_ - pos < n ? cap_ - pos : n;
    __builtin_memcpy(buf_ + pos, src, first);
    __builtin_memcpy(buf_, src + first, n - first);
}

size_t Ring::push(const uint8_t* src, size_t n) {
    if (n > space()) n = space();
    if (n == 0) return 0;
    if (!reserve(count_ + n)) {
        // Take what fits in the memory already there.
        n = cap_ - count_;
        if (n == 0) return 0;
    }
    write_at(count_, src, n);
    count_ += n;
    return n;
}

void Ring::peek(size_t off, uint8_t* dst, size_t n) const {
    size_t pos = head_ + off;
    if (pos >= cap_) pos -= cap_;
    size_t first = cap_ - pos < n ? cap_ - pos : n;
    __builtin_memcpy(dst, buf_ + pos, first);
    __builtin_memcpy(dst + first, buf_, n - first);
}

void Ring::drop(size_t n) {
    if (n > count_) n = count_;
    count_ -= n;
    head_ += n;
    // head_ is not reset when empty: out-of-order bytes may sit ahead.
    if (head_ >= cap_) head_ -= cap_;
}

void Ring::release() {
    if (buf_ != nullptr) mm::heap_free(buf_);
    buf_ = nullptr;
    cap_ = head_ = count_ = 0;
}

}  // namespace kiln::net
