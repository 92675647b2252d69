// mremap(2) (in place, or moving the pages' frames to a new range),
// madvise(2), msync(2) and mincore(2).
#include <linux/mman.h>

#include "fs/inode.h"
#include "mm/vm.h"

namespace kiln::mm {
namespace {

constexpr uint64_t kPageMask = kUserPage - 1;

uint64_t page_up(uint64_t v) {
    return v > ~0ull - kPageMask ? 0 : (v + kPageMask) & ~kPageMask;
}

struct MoveState {
    VmBackend* backend;
    uint64_t from;
    uint64_t to;
    bool failed;
};

}  // namespace

Result<void> UserAddressSpace::move_pages(uint64_t from, uint64_t to, uint64_t len) {
    MoveState st{&backend_, from, to, false};
    backend_.visit(
        from, from + len,
        [](void* ctx, uint64_t va, uint64_t frame) {
            auto* s = static_cast<MoveState*>(ctx);
            if (s->failed) return;
            const int prot = s->backend->lookup(va).prot;
            if (!s->backend->map(s->to + (va - s->from), frame, prot).ok()) s->failed = true;
        },
        &st);
    auto forget = [](void*, uint64_t, uint64_t) {};
    if (st.failed) {
        backend_.unmap(to, to + len, forget, nullptr);  // the frames stay where they were
        return Error(Errno::kENOMEM);
    }
    backend_.unmap(from, from + len, forget, nullptr);
    return {};
}

Result<uint64_t> UserAddressSpace::mremap(uint64_t old_addr, uint64_t old_len, uint64_t new_len,
                                          int flags, uint64_t new_addr) {
    if (old_addr & kPageMask) return Error(Errno::kEINVAL);
    if (flags & ~(MREMAP_MAYMOVE | MREMAP_FIXED | MREMAP_DONTUNMAP)) return Error(Errno::kEINVAL);
    if ((flags & MREMAP_FIXED) && !(flags & MREMAP_MAYMOVE)) return Error(Errno::kEINVAL);
    // FIXME: MREMAP_DONTUNMAP and old_len 0 (a second mapping of shared
    // pages) are not supported.
    if (flags & MREMAP_DONTUNMAP) return Error(Errno::kEINVAL);
    old_len = page_up(old_len);
    new_len = page_up(new_len);
    if (old_len == 0 || new_len == 0) return Error(Errno::kEINVAL);
    if (old_addr > kTop || old_len > kTop - old_addr || new_len > kTop) {
        return Error(Errno::kEINVAL);
    }
    const uint64_t old_end = old_addr + old_len;
    const bool fixed = flags & MREMAP_FIXED;
    if (fixed) {
        if ((new_addr & kPageMask) || new_addr < kMinAddr || new_addr > kTop - new_len) {
            return Error(Errno::kEINVAL);
        }
        if (new_addr < old_end && old_addr < new_addr + new_len) return Error(Errno::kEINVAL);
    }
    Vma* vma = vmas_.find(old_addr);
    if (vma == nullptr || old_end > vma->end) return Error(Errno::kEFAULT);

    if (!fixed) {
        if (new_len <= old_len) {
            TRY(reserve_for(1, 0));
            remove_range(old_addr + new_len, old_end);
            return old_addr;
        }
        const uint64_t grow_end = old_addr + new_len;
        size_t next = vmas_.first_ending_above(old_end);
        if (old_end == vma->end &&
            (next == vmas_.count() || gap_start(vmas_[next]) >= grow_end)) {
            vma->end = grow_end;
            if (vma->file != nullptr && vma->file_end < vma->offset_of(grow_end)) {
                vma->file_end = vma->offset_of(grow_end);
            }
            return old_addr;
        }
        if (!(flags & MREMAP_MAYMOVE)) return Error(Errno::kENOMEM);
        new_addr = TRY(place(0, new_len));
    }

    // Splits at both ends of the old range, a split where a fixed target
    // lands inside a mapping, and the new VMA.
    TRY(reserve_for(4, 2));
    if (fixed) remove_range(new_addr, new_addr + new_len);
    size_t i = vmas_.first_ending_above(old_addr);
    if (vmas_[i].start < old_addr) split(i++, old_addr);
    if (vmas_[i].end > old_end) split(i, old_end);

    const uint64_t keep = old_len < new_len ? old_len : new_len;
    TRY(move_pages(old_addr, new_addr, keep));
    if (keep < old_len) drop_pages(old_addr + keep, old_end);

    Vma moved = vmas_[i];  // takes over the old VMA's file reference
    vmas_.erase_at(i);
    moved.start = new_addr;
    moved.end = new_addr + new_len;
    if (moved.file != nullptr && moved.file_end < moved.offset_of(moved.end)) {
        moved.file_end = moved.offset_of(moved.end);
    }
    insert(moved);
    return new_addr;
}

Result<void> UserAddressSpace::madvise(uint64_t addr, uint64_t len, int advice) {
    if (addr & kPageMask) return Error(Errno::kEINVAL);
    const uint64_t size = page_up(len);
    if (len != 0 && size == 0) return Error(Errno::kEINVAL);
    if (addr > kTop || size > kTop - addr) return Error(Errno::kEINVAL);
    if (size == 0) return {};
    if (advice != MADV_DONTNEED && advice != MADV_FREE) return {};

    const uint64_t end = addr + size;
    bool hole = false;
    uint64_t cur = addr;
    for (size_t i = vmas_.first_ending_above(addr); i < vmas_.count() && vmas_[i].start < end; i++) {
        const Vma& v = vmas_[i];
        if (v.start > cur) hole = true;
        const uint64_t s = v.start > addr ? v.start : addr;
        const uint64_t e = v.end < end ? v.end : end;
        cur = v.end;
        // Shared memory keeps its contents (they live in the shared object,
        // not the page tables), and MADV_FREE applies to anonymous memory only.
        if (v.flags & kVmaShared) continue;
        if (advice == MADV_FREE && v.file != nullptr) continue;
        drop_pages(s, e);
    }
    if (hole || cur < end) return Error(Errno::kENOMEM);
    return {};
}

Result<void> UserAddressSpace::msync(uint64_t addr, uint64_t len, int flags) {
    if (addr & kPageMask) return Error(Errno::kEINVAL);
    if (flags & ~(MS_ASYNC | MS_INVALIDATE | MS_SYNC)) return Error(Errno::kEINVAL);
    if ((flags & MS_ASYNC) && (flags & MS_SYNC)) return Error(Errno::kEINVAL);
    const uint64_t size = page_up(len);
    if (len != 0 && size == 0) return Error(Errno::kENOMEM);
    if (addr > kTop || size > kTop - addr) return Error(Errno::kENOMEM);
    const uint64_t end = addr + size;
    size_t i = vmas_.first_ending_above(addr);
    for (uint64_t cur = addr; cur < end; i++) {
        if (i == vmas_.count() || vmas_[i].start > cur) return Error(Errno::kENOMEM);
        cur = vmas_[i].end;
    }
    return {};
}

Result<void> UserAddressSpace::mincore(uint64_t addr, uint64_t pages, uint8_t* vec) {
    if (addr & kPageMask) return Error(Errno::kEINVAL);
    if (addr > kTop || pages > (kTop - addr) / kUserPage) return Error(Errno::kENOMEM);
    const uint64_t end = addr + pages * kUserPage;
    size_t i = vmas_.first_ending_above(addr);
    for (uint64_t cur = addr; cur < end; i++) {
        if (i == vmas_.count() || vmas_[i].start > cur) return Error(Errno::kENOMEM);
        cur = vmas_[i].end;
    }
    for (uint64_t p = 0; p < pages; p++) {
        vec[p] = backend_.lookup(addr + p * kUserPage).frame != 0 ? 1 : 0;
    }
    return {};
}

}  // namespace kiln::mm
