#include "mm/frame_allocator.h"

namespace kiln::mm {
namespace {

constexpr size_t kWordBits = 64;

struct Pieces {
    PhysRange r[FrameAllocator::kMaxPieces];
    size_t n = 0;
    bool overflow = false;

    void add(uint64_t base, uint64_t end) {
        if (end <= base) return;
        if (n == FrameAllocator::kMaxPieces) {
            overflow = true;
            return;
        }
        r[n++] = PhysRange{base, end - base};
    }
};

uint64_t align_down(uint64_t v) {
    return v & ~(kPageSize - 1);
}

// Rounds up to a page; saturates at the last page boundary instead of wrapping.
uint64_t align_up(uint64_t v) {
    if (v > UINT64_MAX - (kPageSize - 1)) return align_down(UINT64_MAX);
    return align_down(v + kPageSize - 1);
}

// End of [base, base + size), clamped so it does not wrap.
uint64_t range_end(const PhysRange& r) {
    return r.size > UINT64_MAX - r.base ? UINT64_MAX : r.base + r.size;
}

// A bit count without __builtin_popcountll, which would need libgcc when the
// CPU baseline lacks POPCNT.
size_t popcount(uint64_t v) {
    v = v - ((v >> 1) & 0x5555555555555555ull);
    v = (v & 0x3333333333333333ull) + ((v >> 2) & 0x3333333333333333ull);
    v = (v + (v >> 4)) & 0x0f0f0f0f0f0f0f0full;
    return static_cast<size_t>((v * 0x0101010101010101ull) >> 56);
}

uint64_t low_mask(size_t bits) {
    return bits >= kWordBits ? ~0ull : (1ull << bits) - 1;
}

}  // namespace

Result<void> FrameAllocator::init(Span<const PhysRange> ram, Span<const PhysRange> reserved,
                                  uint64_t direct_map_offset) {
    if (ready_) return Error(Errno::kEINVAL);

    // Usable pieces: RAM trimmed to whole frames above 1 MiB, minus every
    // reserved range widened to whole frames.
    Pieces pieces;
    for (const PhysRange& r : ram) {
        uint64_t base = align_up(r.base);
        uint64_t end = align_down(range_end(r));
        if (base < kLowMemoryLimit) base = kLowMemoryLimit;
        pieces.add(base, end);
    }
    // Firmware maps may overlap; merge so that every frame is in one piece and
    // the bitmap's home cannot also be handed out through another piece.
    for (bool merged = true; merged;) {
        merged = false;
        for (size_t i = 0; i < pieces.n && !merged; ++i) {
            for (size_t j = i + 1; j < pieces.n && !merged; ++j) {
                PhysRange& a = pieces.r[i];
                const PhysRange& b = pieces.r[j];
                if (b.base > a.base + a.size || a.base > b.base + b.size) continue;
                uint64_t base = a.base < b.base ? a.base : b.base;
                uint64_t end =
                    a.base + a.size > b.base + b.size ? a.base + a.size : b.base + b.size;
                a = PhysRange{base, end - base};
                pieces.r[j] = pieces.r[--pieces.n];
                merged = true;
            }
        }
    }
    for (const PhysRange& res : reserved) {
        uint64_t rbase = align_down(res.base);
        uint64_t rend = align_up(range_end(res));
        if (res.size == 0) continue;
        size_t count = pieces.n;
        for (size_t i = 0; i < count; ++i) {
            uint64_t base = pieces.r[i].base;
            uint64_t end = base + pieces.r[i].size;
            if (rend <= base || rbase >= end) continue;
            // Keep the part below the reservation in place, append the part above.
            pieces.r[i].size = rbase > base ? rbase - base : 0;
            if (rend < end) pieces.add(rend, end);
        }
    }
    if (pieces.overflow) return Error(Errno::kEINVAL);

    uint64_t lo = UINT64_MAX;
    uint64_t hi = 0;
    size_t largest = pieces.n;
    for (size_t i = 0; i < pieces.n; ++i) {
        const PhysRange& p = pieces.r[i];
        if (p.size == 0) continue;
        if (p.base < lo) lo = p.base;
        if (p.base + p.size > hi) hi = p.base + p.size;
        if (largest == pieces.n || p.size > pieces.r[largest].size) largest = i;
    }
    if (largest == pieces.n) return Error(Errno::kENOMEM);

    size_t nbits = static_cast<size_t>((hi - lo) >> kPageShift);
    size_t words = (nbits + kWordBits - 1) / kWordBits;
    uint64_t bytes = 2 * words * sizeof(uint64_t);
    size_t bitmap_pages = static_cast<size_t>(align_up(bytes) >> kPageShift);
    PhysRange& home = pieces.r[largest];
    if ((home.size >> kPageShift) <= bitmap_pages) return Error(Errno::kENOMEM);

    bitmap_paddr_ = home.base;
    bitmap_pages_ = bitmap_pages;
    home.base += bitmap_pages * kPageSize;
    home.size -= bitmap_pages * kPageSize;

    // SAFETY: the bitmaps occupy the first frames of a usable RAM range that
    // the caller gave us and that no reserved range overlaps; the caller's
    // direct_map_offset maps that physical memory.
    used_ = reinterpret_cast<uint64_t*>(bitmap_paddr_ + direct_map_offset);
    owned_ = used_ + words;
    for (size_t i = 0; i < words; ++i) {
        used_[i] = ~0ull;
        owned_[i] = 0;
    }
    first_pfn_ = lo >> kPageShift;
    nbits_ = nbits;
    total_pages_ = 0;
    for (size_t i = 0; i < pieces.n; ++i) {
        const PhysRange& p = pieces.r[i];
        if (p.size == 0) continue;
        size_t from = static_cast<size_t>((p.base >> kPageShift) - first_pfn_);
        size_t n = static_cast<size_t>(p.size >> kPageShift);
        set_range(used_, from, n, false);
        set_range(owned_, from, n, true);
    }
    // Count afterwards: overlapping RAM ranges must not be counted twice.
    for (size_t i = 0; i < words; ++i) total_pages_ += popcount(owned_[i]);
    free_pages_ = total_pages_;
    cursor_ = 0;
    ready_ = true;
    return {};
}

bool FrameAllocator::test(size_t i) const {
    return (used_[i / kWordBits] >> (i % kWordBits)) & 1;
}

size_t FrameAllocator::find(size_t from, size_t limit, bool used) const {
    size_t i = from;
    while (i < limit) {
        size_t w = i / kWordBits;
        uint64_t word = used ? used_[w] : ~used_[w];
        word &= ~0ull << (i % kWordBits);  // ignore bits below i
        if (word != 0) {
            size_t hit = w * kWordBits + static_cast<size_t>(__builtin_ctzll(word));
            return hit < limit ? hit : limit;
        }
        i = (w + 1) * kWordBits;
    }
    return limit;
}

size_t FrameAllocator::find_run(size_t from, size_t limit, size_t pages, size_t align) const {
    // Index i has frame number first_pfn_ + i; alignment is on frame numbers.
    auto align_index = [&](size_t i) -> size_t {
        uint64_t pfn = first_pfn_ + i;
        uint64_t aligned = (pfn + align - 1) & ~static_cast<uint64_t>(align - 1);
        return static_cast<size_t>(aligned - first_pfn_);
    };
    size_t i = align_index(from);
    while (i < limit && pages <= limit - i) {
        if (test(i)) {
            i = align_index(find(i, limit, false));
            continue;
        }
        size_t used = find(i, i + pages, true);
        if (used == i + pages) return i;
        i = align_index(used + 1);
    }
    return SIZE_MAX;
}

bool FrameAllocator::range_all(const uint64_t* map, size_t from, size_t n, bool value) const {
    while (n > 0) {
        size_t bit = from % kWordBits;
        size_t take = kWordBits - bit < n ? kWordBits - bit : n;
        uint64_t mask = low_mask(take) << bit;
        uint64_t word = map[from / kWordBits] & mask;
        if (word != (value ? mask : 0)) return false;
        from += take;
        n -= take;
    }
    return true;
}

void FrameAllocator::set_range(uint64_t* map, size_t from, size_t n, bool value) {
    while (n > 0) {
        size_t bit = from % kWordBits;
        size_t take = kWordBits - bit < n ? kWordBits - bit : n;
        uint64_t mask = low_mask(take) << bit;
        if (value) {
            map[from / kWordBits] |= mask;
        } else {
            map[from / kWordBits] &= ~mask;
        }
        from += take;
        n -= take;
    }
}

Result<uint64_t> FrameAllocator::alloc(size_t pages, size_t align_pages) {
    if (pages == 0 || align_pages == 0 || (align_pages & (align_pages - 1)) != 0) {
        return Error(Errno::kEINVAL);
    }
    if (!ready_ || pages > free_pages_) return Error(Errno::kENOMEM);
    size_t i = find_run(cursor_, nbits_, pages, align_pages);
    if (i == SIZE_MAX && cursor_ > 0) {
        // Wrap around; a run may start before the cursor and end past it.
        size_t limit = cursor_ + pages - 1;
        i = find_run(0, limit < nbits_ ? limit : nbits_, pages, align_pages);
    }
    if (i == SIZE_MAX) return Error(Errno::kENOMEM);
    set_range(used_, i, pages, true);
    free_pages_ -= pages;
    cursor_ = i + pages < nbits_ ? i + pages : 0;
    return (first_pfn_ + i) << kPageShift;
}

Result<void> FrameAllocator::free(uint64_t paddr, size_t pages) {
    if (!ready_ || pages == 0 || (paddr & (kPageSize - 1)) != 0) return Error(Errno::kEINVAL);
    uint64_t pfn = paddr >> kPageShift;
    if (pfn < first_pfn_ || pfn - first_pfn_ >= nbits_ || pages > nbits_ - (pfn - first_pfn_)) {
        return Error(Errno::kEINVAL);
    }
    size_t i = static_cast<size_t>(pfn - first_pfn_);
    // Every frame must be ours and in use; otherwise this is a double free or
    // a stray address, and nothing changes.
    if (!range_all(owned_, i, pages, true) || !range_all(used_, i, pages, true)) {
        return Error(Errno::kEINVAL);
    }
    set_range(used_, i, pages, false);
    free_pages_ += pages;
    // Hand freed frames out again first: they are already backed by the
    // host, while a frame never touched costs a host page fault on first
    // use (measured: path syscalls, which free and reallocate a 4 KiB
    // buffer, cost 9-24 us with next-fit marching into fresh memory).
    if (i < cursor_) cursor_ = i;
    return {};
}

}  // namespace kiln::mm
