// UserAddressSpace: its life cycle and the VMA edits every operation is
// built from (split, remove a range, insert with merging).
#include "fs/inode.h"
#include "mm/vm.h"

namespace kiln::mm {

Result<UserAddressSpace*> UserAddressSpace::create(VmBackend& backend) {
    void* p = backend.alloc_meta(sizeof(UserAddressSpace));
    if (p == nullptr) return Error(Errno::kENOMEM);
    auto* vm = new (p, ResultPlacement{}) UserAddressSpace(backend);
    if (!vm->vmas_.reserve(32).ok()) {
        destroy(vm);
        return Error(Errno::kENOMEM);
    }
    return vm;
}

void UserAddressSpace::destroy(UserAddressSpace* vm) {
    if (vm == nullptr) return;
    for (size_t i = 0; i < vm->vmas_.count(); i++) {
        vm->drop_pages(vm->vmas_[i].start, vm->vmas_[i].end);
        vm->release_file(vm->vmas_[i]);
    }
    VmBackend& backend = vm->backend_;
    vm->~UserAddressSpace();
    backend.free_meta(vm);
}

void UserAddressSpace::release_file(Vma& vma) {
    if (vma.file != nullptr) vma.file->release();
    vma.file = nullptr;
}

void UserAddressSpace::drop_pages(uint64_t start, uint64_t end) {
    backend_.unmap(
        start, end,
        [](void* ctx, uint64_t, uint64_t frame) {
            auto* self = static_cast<UserAddressSpace*>(ctx);
            self->backend_.free_frame(frame);
            self->resident_--;
        },
        this);
}

Result<void> UserAddressSpace::reserve_for(size_t extra, size_t growth) {
    if (vmas_.count() + growth > kMaxMapCount) return Error(Errno::kENOMEM);
    return vmas_.reserve(vmas_.count() + extra);
}

size_t UserAddressSpace::splits_inside(uint64_t start, uint64_t end) const {
    size_t i = vmas_.first_ending_above(start);
    return i < vmas_.count() && vmas_[i].start < start && vmas_[i].end > end ? 1 : 0;
}

void UserAddressSpace::split(size_t i, uint64_t addr) {
    Vma tail = vmas_[i];
    tail.start = addr;
    tail.file_offset = vmas_[i].offset_of(addr);
    if (tail.file != nullptr) tail.file->retain();
    vmas_[i].end = addr;
    vmas_.insert_at(i + 1, tail);
}

void UserAddressSpace::remove_range(uint64_t start, uint64_t end) {
    size_t i = vmas_.first_ending_above(start);
    if (i < vmas_.count() && vmas_[i].start < start && vmas_[i].end > end) split(i, end);
    while (i < vmas_.count() && vmas_[i].start < end) {
        Vma& v = vmas_[i];
        if (v.start < start) {  // keeps its head
            drop_pages(start, v.end);
            v.end = start;
            i++;
        } else if (v.end > end) {  // keeps its tail
            drop_pages(v.start, end);
            v.file_offset = v.offset_of(end);
            v.start = end;
            break;
        } else {
            drop_pages(v.start, v.end);
            release_file(v);
            vmas_.erase_at(i);
        }
    }
}

bool UserAddressSpace::can_merge(const Vma& a, const Vma& b) const {
    if (a.end != b.start || a.prot != b.prot || a.flags != b.flags || a.file != b.file) return false;
    return a.file == nullptr || (a.offset_of(a.end) == b.file_offset && a.file_end == b.file_end);
}

void UserAddressSpace::merge_around(size_t i) {
    if (i + 1 < vmas_.count() && can_merge(vmas_[i], vmas_[i + 1])) {
        vmas_[i].end = vmas_[i + 1].end;
        release_file(vmas_[i + 1]);
        vmas_.erase_at(i + 1);
    }
    if (i > 0 && can_merge(vmas_[i - 1], vmas_[i])) {
        vmas_[i - 1].end = vmas_[i].end;
        release_file(vmas_[i]);
        vmas_.erase_at(i);
    }
}

void UserAddressSpace::insert(const Vma& vma) {
    size_t i = vmas_.first_ending_above(vma.start);
    vmas_.insert_at(i, vma);
    merge_around(i);
}

}  // namespace kiln::mm
