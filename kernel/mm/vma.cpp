#include "mm/vma.h"

namespace kiln::mm {

VmaList::~VmaList() {
    if (v_ != nullptr) backend_.free_meta(v_);
}

size_t VmaList::first_ending_above(uint64_t addr) const {
    size_t lo = 0, hi = count_;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (v_[mid].end > addr) {
            hi = mid;
        } else {
            lo = mid + 1;
        }
    }
    return lo;
}

Vma* VmaList::find(uint64_t addr) {
    size_t i = first_ending_above(addr);
    if (i < count_ && v_[i].start <= addr) return &v_[i];
    return nullptr;
}

bool VmaList::is_free(uint64_t start, uint64_t end) const {
    size_t i = first_ending_above(start);
    return i == count_ || v_[i].start >= end;
}

Result<void> VmaList::reserve(size_t n) {
    if (n <= capacity_) return {};
    size_t cap = capacity_ ? capacity_ : 32;
    while (cap < n) cap *= 2;
    auto* fresh = static_cast<Vma*>(backend_.alloc_meta(cap * sizeof(Vma)));
    if (fresh == nullptr) return Error(Errno::kENOMEM);
    if (count_) __builtin_memcpy(fresh, v_, count_ * sizeof(Vma));
    if (v_ != nullptr) backend_.free_meta(v_);
    v_ = fresh;
    capacity_ = cap;
    return {};
}

void VmaList::insert_at(size_t i, const Vma& vma) {
    // The caller reserved room; never write past the array.
    if (count_ >= capacity_) __builtin_trap();
    __builtin_memmove(&v_[i + 1], &v_[i], (count_ - i) * sizeof(Vma));
    v_[i] = vma;
    count_++;
}

void VmaList::erase_at(size_t i) {
    __builtin_memmove(&v_[i], &v_[i + 1], (count_ - i - 1) * sizeof(Vma));
    count_--;
}

}  // namespace kiln::mm
