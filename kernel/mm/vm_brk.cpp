// brk(2): the heap is an anonymous read-write mapping from the page-aligned
// brk base up to the break rounded up to a page. A grow that would meet
// another mapping (or come within a page of it, as in Linux) or cannot get
// memory leaves the break where it was; glibc and musl then use mmap.
#include "mm/vm.h"

namespace kiln::mm {
namespace {

constexpr uint64_t kPageMask = kUserPage - 1;

}  // namespace

void UserAddressSpace::set_brk_base(uint64_t base) {
    brk_base_ = (base + kPageMask) & ~kPageMask;
    brk_ = brk_base_;
}

uint64_t UserAddressSpace::brk(uint64_t new_brk) {
    if (brk_base_ == 0 || new_brk < brk_base_ || new_brk > kTop - kUserPage) return brk_;
    const uint64_t old_top = (brk_ + kPageMask) & ~kPageMask;
    const uint64_t new_top = (new_brk + kPageMask) & ~kPageMask;
    if (new_top > old_top) {
        size_t i = vmas_.first_ending_above(old_top);
        if (i < vmas_.count() && gap_start(vmas_[i]) < new_top + kUserPage) return brk_;
        if (!reserve_for(1, 1).ok()) return brk_;
        Vma heap{};
        heap.start = old_top;
        heap.end = new_top;
        heap.prot = kProtRead | kProtWrite;
        heap.flags = kVmaHeap;
        insert(heap);
    } else if (new_top < old_top) {
        if (!reserve_for(1, 0).ok()) return brk_;
        remove_range(new_top, old_top);
    }
    brk_ = new_brk;
    return brk_;
}

}  // namespace kiln::mm
