// Physical page-frame allocator: hands out contiguous runs of 4 KiB frames.
//
// Built once from the firmware's RAM ranges minus reserved ranges (kernel
// image, initrd, boot structures); frames below 1 MiB are never used. One bit
// per frame records "in use", a second "owned" (usable RAM we manage), so a
// free of a frame we never handed out is caught. Both bitmaps live at the
// start of the largest usable range, so starting the allocator needs no
// memory of its own; the allocator reads and writes nothing but them.
// Allocation is next-fit over the bitmap, a 64-bit word at a time.
//
// Not thread-safe: callers serialise (one lock around the global allocator).
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "kiln/result.h"
#include "kiln/span.h"

namespace kiln::mm {

inline constexpr uint64_t kPageSize = 4096;
inline constexpr unsigned kPageShift = 12;
// Frames below this are never handed out (real-mode leftovers, and a frame at
// physical 0 would look like a null pointer).
inline constexpr uint64_t kLowMemoryLimit = 1ull << 20;

struct PhysRange {
    uint64_t base;
    uint64_t size;
};

class FrameAllocator {
public:
    // Most pieces usable RAM may break into once reserved ranges are cut out.
    static constexpr size_t kMaxPieces = 128;

    constexpr FrameAllocator() = default;
    FrameAllocator(const FrameAllocator&) = delete;
    FrameAllocator& operator=(const FrameAllocator&) = delete;

    // ram and reserved may be unsorted and overlap; RAM is trimmed inward to
    // whole frames, reserved ranges are widened outward. The bitmaps are
    // reached at physical address + direct_map_offset (the kernel's direct
    // map; on the host, a buffer standing in for RAM). Errors: EINVAL when
    // called twice or RAM breaks into more than kMaxPieces pieces, ENOMEM
    // when no usable range can hold the bitmaps.
    [[nodiscard]] Result<void> init(Span<const PhysRange> ram, Span<const PhysRange> reserved,
                                    uint64_t direct_map_offset);

    // `pages` contiguous frames whose first frame number is a multiple of
    // align_pages (a power of two); returns the physical address. EINVAL for
    // pages == 0 or a bad alignment, ENOMEM when no such run is free.
    [[nodiscard]] Result<uint64_t> alloc(size_t pages, size_t align_pages = 1);

    // Returns frames from alloc (any sub-run may be freed on its own). EINVAL,
    // changing nothing, when paddr is unaligned or any frame in the run is
    // not owned or already free.
    [[nodiscard]] Result<void> free(uint64_t paddr, size_t pages);

    size_t free_pages() const { return free_pages_; }
    size_t total_pages() const { return total_pages_; }
    // Where the bitmaps live (physical), excluded from total_pages().
    PhysRange bitmap_range() const { return PhysRange{bitmap_paddr_, bitmap_pages_ * kPageSize}; }

private:
    bool test(size_t i) const;
    // First index in [from, limit) whose used bit equals `used`, or limit.
    size_t find(size_t from, size_t limit, bool used) const;
    size_t find_run(size_t from, size_t limit, size_t pages, size_t align) const;
    bool range_all(const uint64_t* map, size_t from, size_t n, bool value) const;
    static void set_range(uint64_t* map, size_t from, size_t n, bool value);

    uint64_t* used_ = nullptr;   // bit set: frame not available
    uint64_t* owned_ = nullptr;  // bit set: frame is usable RAM we manage
    uint64_t first_pfn_ = 0;     // frame number of bit 0
    size_t nbits_ = 0;
    size_t cursor_ = 0;  // next-fit start
    size_t free_pages_ = 0;
    size_t total_pages_ = 0;
    uint64_t bitmap_paddr_ = 0;
    size_t bitmap_pages_ = 0;
    bool ready_ = false;
};

}  // namespace kiln::mm
