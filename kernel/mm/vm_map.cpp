// mmap, munmap and mprotect with the argument checks and errors mmap(2),
// munmap(2) and mprotect(2) document, and where new mappings go: the hint
// when it is free, otherwise the highest free gap below the mmap top.
#include <linux/mman.h>

#include "fs/inode.h"
#include "mm/vm.h"

namespace kiln::mm {
namespace {

constexpr uint64_t kPageMask = kUserPage - 1;

// Rounds up to a page; 0 when that overflows.
uint64_t page_up(uint64_t v) {
    return v > ~0ull - kPageMask ? 0 : (v + kPageMask) & ~kPageMask;
}

// Flags mmap(2) accepts with MAP_SHARED_VALIDATE (the others are EOPNOTSUPP).
constexpr int kKnownMapFlags = MAP_SHARED | MAP_PRIVATE | MAP_FIXED | MAP_ANONYMOUS | MAP_32BIT |
                               MAP_DENYWRITE | MAP_EXECUTABLE | MAP_UNINITIALIZED | MAP_GROWSDOWN |
                               MAP_LOCKED | MAP_NORESERVE | MAP_POPULATE | MAP_NONBLOCK |
                               MAP_STACK | MAP_HUGETLB | MAP_FIXED_NOREPLACE |
                               (MAP_HUGE_MASK << MAP_HUGE_SHIFT);

// MAP_32BIT places mappings in the first 2 GiB (mmap(2)).
constexpr uint64_t k32BitTop = 0x80000000ull;

}  // namespace

uint64_t UserAddressSpace::gap_start(const Vma& v) const {
    if (!(v.flags & kVmaGrowsDown)) return v.start;
    return v.start > kStackGuardGap ? v.start - kStackGuardGap : 0;
}

Result<uint64_t> UserAddressSpace::find_free_below(uint64_t top, uint64_t len) const {
    uint64_t hi = top;
    for (size_t i = vmas_.count(); i-- > 0;) {
        const Vma& v = vmas_[i];
        if (v.end <= hi && hi - v.end >= len) return hi - len;
        uint64_t g = gap_start(v);
        if (g < hi) hi = g;
        if (hi < kMinAddr + len) return Error(Errno::kENOMEM);
    }
    if (hi >= kMinAddr + len) return hi - len;
    return Error(Errno::kENOMEM);
}

Result<uint64_t> UserAddressSpace::place(uint64_t hint, uint64_t len) {
    hint = page_up(hint);
    if (hint >= kMinAddr && hint <= kTop - len) {
        size_t i = vmas_.first_ending_above(hint);
        if (i == vmas_.count() || gap_start(vmas_[i]) >= hint + len) return hint;
    }
    auto below_top = find_free_below(mmap_top_ < kTop ? mmap_top_ : kTop, len);
    if (below_top.ok()) return below_top;
    return find_free_below(kTop, len);
}

Result<uint64_t> UserAddressSpace::mmap(uint64_t addr, uint64_t len, int prot, int flags,
                                        fs::Inode* file, uint64_t offset) {
    if (len == 0) return Error(Errno::kEINVAL);
    const int type = flags & MAP_TYPE;
    if (type == MAP_SHARED_VALIDATE) {
        if (flags & ~kKnownMapFlags) return Error(Errno::kEOPNOTSUPP);
    } else if (type != MAP_SHARED && type != MAP_PRIVATE) {
        return Error(Errno::kEINVAL);
    }
    if (offset & kPageMask) return Error(Errno::kEINVAL);
    const uint64_t size = page_up(len);
    if (size == 0 || size > kTop) return Error(Errno::kENOMEM);
    if (file != nullptr && (offset >> 12) + (size >> 12) < (offset >> 12)) {
        return Error(Errno::kEOVERFLOW);
    }

    const bool fixed = flags & (MAP_FIXED | MAP_FIXED_NOREPLACE);
    if (fixed) {
        if (addr & kPageMask) return Error(Errno::kEINVAL);
        if (addr > kTop - size) return Error(Errno::kENOMEM);
        if (addr < kMinAddr) return Error(Errno::kEPERM);
        if ((flags & MAP_FIXED_NOREPLACE) && !vmas_.is_free(addr, addr + size)) {
            return Error(Errno::kEEXIST);
        }
    } else if (flags & MAP_32BIT) {
        addr = TRY(find_free_below(k32BitTop, size));
    } else {
        addr = TRY(place(addr, size));
    }
    // One split where a fixed mapping lands inside another, one new VMA.
    TRY(reserve_for(2, 1 + (fixed ? splits_inside(addr, addr + size) : 0)));

    Vma vma{};
    vma.start = addr;
    vma.end = addr + size;
    vma.prot = static_cast<uint8_t>(prot & (kProtRead | kProtWrite | kProtExec));
    if (type != MAP_PRIVATE) vma.flags |= kVmaShared;
    if (flags & MAP_GROWSDOWN) vma.flags |= kVmaGrowsDown;
    if (flags & MAP_NORESERVE) vma.flags |= kVmaNoReserve;
    if (file != nullptr) {
        // FIXME: a writable MAP_SHARED file mapping behaves as a private one:
        // writes stay in memory and never reach the file.
        vma.file = file;
        vma.file_offset = offset;
        vma.file_end = offset + len;
        file->retain();
    }
    if (fixed) remove_range(addr, addr + size);
    insert(vma);
    if ((flags & MAP_POPULATE) && vma.prot != 0) {
        // Best effort, as in Linux: a page that cannot be had faults later.
        (void)prepare(addr, size, Access::kRead);
    }
    return addr;
}

Result<void> UserAddressSpace::munmap(uint64_t addr, uint64_t len) {
    if ((addr & kPageMask) || len == 0) return Error(Errno::kEINVAL);
    const uint64_t size = page_up(len);
    if (size == 0 || addr > kTop || size > kTop - addr) return Error(Errno::kEINVAL);
    TRY(reserve_for(1, splits_inside(addr, addr + size)));
    remove_range(addr, addr + size);
    return {};
}

Result<void> UserAddressSpace::mprotect(uint64_t addr, uint64_t len, int prot) {
    if (addr & kPageMask) return Error(Errno::kEINVAL);
    if (prot & ~(kProtRead | kProtWrite | kProtExec | PROT_GROWSDOWN | PROT_GROWSUP)) {
        return Error(Errno::kEINVAL);
    }
    if ((prot & PROT_GROWSDOWN) && (prot & PROT_GROWSUP)) return Error(Errno::kEINVAL);
    if (len == 0) return {};
    const uint64_t size = page_up(len);
    if (size == 0 || addr > kTop || size > kTop - addr) return Error(Errno::kENOMEM);
    const uint64_t end = addr + size;
    prot &= kProtRead | kProtWrite | kProtExec;

    // The whole range must be mapped; nothing changes otherwise.
    size_t i = vmas_.first_ending_above(addr);
    for (uint64_t cur = addr; cur < end; i++) {
        if (i == vmas_.count() || vmas_[i].start > cur) return Error(Errno::kENOMEM);
        cur = vmas_[i].end;
    }
    size_t first = vmas_.first_ending_above(addr);
    size_t last = vmas_.first_ending_above(end - 1);
    TRY(reserve_for(2, (vmas_[first].start < addr ? 1 : 0) + (vmas_[last].end > end ? 1 : 0)));
    if (vmas_[first].start < addr) split(first++, addr);
    last = vmas_.first_ending_above(end - 1);
    if (vmas_[last].end > end) split(last, end);
    for (size_t j = first; j <= last; j++) vmas_[j].prot = static_cast<uint8_t>(prot);
    backend_.protect(addr, end, prot);
    // Merge back what now matches its neighbours, right to left so that the
    // indices still to visit stay valid.
    for (size_t j = last + 1; j >= first && j >= 1; j--) {
        if (j < vmas_.count() && can_merge(vmas_[j - 1], vmas_[j])) {
            vmas_[j - 1].end = vmas_[j].end;
            release_file(vmas_[j]);
            vmas_.erase_at(j);
        }
        if (j == 0) break;
    }
    return {};
}

}  // namespace kiln::mm
