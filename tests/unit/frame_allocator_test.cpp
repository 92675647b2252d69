#include "mm/frame_allocator.h"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <string.h>

#include <map>
#include <random>
#include <set>
#include <vector>

using kiln::Errno;
using kiln::Span;
using kiln::mm::FrameAllocator;
using kiln::mm::kPageSize;
using kiln::mm::PhysRange;

// <errno.h> (pulled in by gtest) defines the errno names as macros with
// Linux's values, so expected errors are written Errno(EINVAL).

namespace {

constexpr uint64_t MiB = 1ull << 20;
constexpr uint8_t kCanary = 0xa5;

// A buffer standing in for physical memory [base, base + size).
class FakeRam {
public:
    FakeRam(uint64_t base, uint64_t size) : base_(base), size_(size) {
        mem_ = static_cast<uint8_t*>(aligned_alloc(kPageSize, size));
        memset(mem_, kCanary, size);
    }
    ~FakeRam() { ::free(mem_); }
    uint64_t offset() const { return reinterpret_cast<uint64_t>(mem_) - base_; }
    // True when no byte of [base_, base_ + size_) outside `except` changed.
    bool untouched_except(PhysRange except) const {
        for (uint64_t i = 0; i < size_; ++i) {
            uint64_t pa = base_ + i;
            if (pa >= except.base && pa < except.base + except.size) continue;
            if (mem_[i] != kCanary) return false;
        }
        return true;
    }

private:
    uint64_t base_;
    uint64_t size_;
    uint8_t* mem_;
};

bool overlaps(uint64_t a, uint64_t alen, uint64_t b, uint64_t blen) {
    return a < b + blen && b < a + alen;
}

template <size_t N>
Span<const PhysRange> ranges(const PhysRange (&r)[N]) {
    return Span<const PhysRange>(r, N);
}

TEST(FrameAllocator, CountsUsablePagesAboveOneMiB) {
    FakeRam ram(0, 32 * MiB);
    const PhysRange mem[] = {{0, 32 * MiB}};
    FrameAllocator fa;
    ASSERT_TRUE(fa.init(ranges(mem), {}, ram.offset()).ok());
    PhysRange bm = fa.bitmap_range();
    EXPECT_EQ(bm.base, 1 * MiB);  // start of the only (largest) range
    EXPECT_GT(bm.size, 0u);
    EXPECT_EQ(fa.total_pages(), (31 * MiB - bm.size) / kPageSize);
    EXPECT_EQ(fa.free_pages(), fa.total_pages());
}

TEST(FrameAllocator, TouchesNothingButItsBitmap) {
    FakeRam ram(0, 16 * MiB);
    const PhysRange mem[] = {{0, 16 * MiB}};
    FrameAllocator fa;
    ASSERT_TRUE(fa.init(ranges(mem), {}, ram.offset()).ok());
    for (int i = 0; i < 100; ++i) ASSERT_TRUE(fa.alloc(1 + i % 5, 1u << (i % 4)).ok());
    ASSERT_TRUE(fa.free(fa.bitmap_range().base + fa.bitmap_range().size, 1).ok());
    EXPECT_TRUE(ram.untouched_except(fa.bitmap_range()));
}

TEST(FrameAllocator, ExhaustionGivesEnomemAndFreedPagesComeBack) {
    FakeRam ram(0, 4 * MiB);
    const PhysRange mem[] = {{0, 4 * MiB}};
    FrameAllocator fa;
    ASSERT_TRUE(fa.init(ranges(mem), {}, ram.offset()).ok());
    std::vector<uint64_t> got;
    for (;;) {
        auto r = fa.alloc(1);
        if (!r.ok()) {
            EXPECT_EQ(r.error(), Errno(ENOMEM));
            break;
        }
        got.push_back(*r);
    }
    EXPECT_EQ(got.size(), fa.total_pages());
    EXPECT_EQ(fa.free_pages(), 0u);
    EXPECT_EQ(std::set<uint64_t>(got.begin(), got.end()).size(), got.size());

    ASSERT_TRUE(fa.free(got[17], 1).ok());
    EXPECT_EQ(fa.free_pages(), 1u);
    auto again = fa.alloc(1);
    ASSERT_TRUE(again.ok());
    EXPECT_EQ(*again, got[17]);
    EXPECT_EQ(fa.alloc(1).error(), Errno(ENOMEM));
    EXPECT_EQ(fa.alloc(2).error(), Errno(ENOMEM));
}

TEST(FrameAllocator, ContiguousRunsRespectAlignment) {
    FakeRam ram(0, 64 * MiB);
    const PhysRange mem[] = {{0, 64 * MiB}};
    const PhysRange reserved[] = {{1 * MiB, 0x3000}};  // knock the start off any nice boundary
    FrameAllocator fa;
    ASSERT_TRUE(fa.init(ranges(mem), ranges(reserved), ram.offset()).ok());
    for (size_t align : {1u, 2u, 4u, 16u, 512u}) {
        for (size_t pages : {1u, 3u, 512u}) {
            auto r = fa.alloc(pages, align);
            ASSERT_TRUE(r.ok()) << pages << "/" << align;
            EXPECT_EQ(*r % (align * kPageSize), 0u) << pages << "/" << align;
        }
    }
    auto huge = fa.alloc(1, 4096);  // 16 MiB aligned
    ASSERT_TRUE(huge.ok());
    EXPECT_EQ(*huge % (16 * MiB), 0u);
}

TEST(FrameAllocator, RejectsBadArguments) {
    FakeRam ram(0, 4 * MiB);
    const PhysRange mem[] = {{0, 4 * MiB}};
    FrameAllocator fa;
    EXPECT_EQ(fa.alloc(1).error(), Errno(ENOMEM));  // before init
    ASSERT_TRUE(fa.init(ranges(mem), {}, ram.offset()).ok());
    EXPECT_EQ(fa.init(ranges(mem), {}, ram.offset()).error(), Errno(EINVAL));  // twice
    EXPECT_EQ(fa.alloc(0).error(), Errno(EINVAL));
    EXPECT_EQ(fa.alloc(1, 0).error(), Errno(EINVAL));
    EXPECT_EQ(fa.alloc(1, 3).error(), Errno(EINVAL));
    EXPECT_EQ(fa.alloc(fa.total_pages() + 1).error(), Errno(ENOMEM));
    EXPECT_EQ(fa.alloc(SIZE_MAX).error(), Errno(ENOMEM));
}

TEST(FrameAllocator, InvalidFreesAreDetectedAndChangeNothing) {
    FakeRam ram(0, 8 * MiB);
    const PhysRange mem[] = {{0, 8 * MiB}};
    const PhysRange reserved[] = {{4 * MiB, 64 * 1024}};
    FrameAllocator fa;
    ASSERT_TRUE(fa.init(ranges(mem), ranges(reserved), ram.offset()).ok());
    uint64_t a = *fa.alloc(4);
    size_t free_before = fa.free_pages();

    EXPECT_EQ(fa.free(a + 1, 1).error(), Errno(EINVAL));                   // unaligned
    EXPECT_EQ(fa.free(a, 0).error(), Errno(EINVAL));                       // empty
    EXPECT_EQ(fa.free(a, 5).error(), Errno(EINVAL));                       // runs into a free page
    EXPECT_EQ(fa.free(4 * MiB, 1).error(), Errno(EINVAL));                 // reserved
    EXPECT_EQ(fa.free(fa.bitmap_range().base, 1).error(), Errno(EINVAL));  // the bitmap
    EXPECT_EQ(fa.free(0x1000, 1).error(), Errno(EINVAL));                  // below 1 MiB
    EXPECT_EQ(fa.free(64 * MiB, 1).error(), Errno(EINVAL));                // beyond RAM
    EXPECT_EQ(fa.free(8 * MiB - kPageSize, 2).error(), Errno(EINVAL));     // runs past the end
    EXPECT_EQ(fa.free(UINT64_MAX & ~(kPageSize - 1), 1).error(), Errno(EINVAL));
    EXPECT_EQ(fa.free(a, SIZE_MAX).error(), Errno(EINVAL));
    EXPECT_EQ(fa.free_pages(), free_before);

    ASSERT_TRUE(fa.free(a + kPageSize, 2).ok());                  // a sub-run
    EXPECT_EQ(fa.free(a + kPageSize, 1).error(), Errno(EINVAL));  // double free
    EXPECT_EQ(fa.free(a, 4).error(), Errno(EINVAL));  // partly free already: all or nothing
    EXPECT_EQ(fa.free_pages(), free_before + 2);
    ASSERT_TRUE(fa.free(a, 1).ok());
    ASSERT_TRUE(fa.free(a + 3 * kPageSize, 1).ok());
    EXPECT_EQ(fa.free_pages(), fa.total_pages());
}

TEST(FrameAllocator, ReservedAndLowMemoryAreNeverHandedOut) {
    FakeRam ram(0, 24 * MiB);
    // Two RAM ranges with a hole, one overlapping the other's end; reserved
    // ranges deliberately unaligned (widened to whole pages).
    const PhysRange mem[] = {
        {0, 10 * MiB}, {8 * MiB, 4 * MiB}, {16 * MiB + 0x800, 8 * MiB - 0x800}};
    const PhysRange reserved[] = {
        {1 * MiB, 2 * MiB},        // kernel image
        {5 * MiB + 123, 1 * MiB},  // initrd
        {0x9000, 0x1000},          // boot structures below 1 MiB
        {20 * MiB - 1, 2},         // straddles a page boundary
        {30 * MiB, 1 * MiB},       // outside RAM: ignored
    };
    FrameAllocator fa;
    ASSERT_TRUE(fa.init(ranges(mem), ranges(reserved), ram.offset()).ok());
    PhysRange bm = fa.bitmap_range();

    uint64_t expected = (12 * MiB - 1 * MiB) / kPageSize     // [1, 12) MiB
                        - (2 * MiB) / kPageSize              // kernel
                        - (1 * MiB / kPageSize + 1)          // initrd spans 257 pages
                        + (8 * MiB - kPageSize) / kPageSize  // [16M+4K, 24M)
                        - 2                                  // the straddling reservation
                        - bm.size / kPageSize;
    EXPECT_EQ(fa.total_pages(), expected);

    for (const PhysRange& r : reserved) EXPECT_FALSE(overlaps(bm.base, bm.size, r.base, r.size));
    bool bitmap_in_ram = false;
    for (const PhysRange& r : mem) {
        if (bm.base >= r.base && bm.base + bm.size <= r.base + r.size) bitmap_in_ram = true;
    }
    EXPECT_TRUE(bitmap_in_ram);

    size_t n = 0;
    for (;;) {
        auto r = fa.alloc(1);
        if (!r.ok()) break;
        uint64_t pa = *r;
        ++n;
        ASSERT_GE(pa, 1 * MiB);
        ASSERT_FALSE(overlaps(pa, kPageSize, bm.base, bm.size)) << std::hex << pa;
        for (const PhysRange& res : reserved) {
            ASSERT_FALSE(overlaps(pa, kPageSize, res.base, res.size)) << std::hex << pa;
        }
        bool in_ram = false;
        for (const PhysRange& m : mem) in_ram |= pa >= m.base && pa + kPageSize <= m.base + m.size;
        ASSERT_TRUE(in_ram) << std::hex << pa;
    }
    EXPECT_EQ(n, fa.total_pages());
}

TEST(FrameAllocator, RunsNeverSpanAHole) {
    FakeRam ram(0, 16 * MiB);
    const PhysRange mem[] = {{1 * MiB, 3 * MiB}, {4 * MiB + kPageSize, 3 * MiB}};
    FrameAllocator fa;
    ASSERT_TRUE(fa.init(ranges(mem), {}, ram.offset()).ok());
    size_t three_mib = 3 * MiB / kPageSize;
    // Both pieces together have room, but no single piece does.
    EXPECT_EQ(fa.alloc(three_mib + 1).error(), Errno(ENOMEM));
    // The bitmap sits in the first of the two equal pieces; the second is whole.
    auto r = fa.alloc(three_mib);
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(*r, 4 * MiB + kPageSize);
}

TEST(FrameAllocator, NextFitWrapsAroundToFreedPages) {
    FakeRam ram(0, 4 * MiB);
    const PhysRange mem[] = {{1 * MiB, 3 * MiB}};
    FrameAllocator fa;
    ASSERT_TRUE(fa.init(ranges(mem), {}, ram.offset()).ok());
    uint64_t first = *fa.alloc(8);
    while (fa.alloc(8).ok()) {
    }
    while (fa.alloc(1).ok()) {
    }
    ASSERT_TRUE(fa.free(first, 8).ok());
    auto r = fa.alloc(8);
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(*r, first);
}

TEST(FrameAllocator, InitFailures) {
    FakeRam ram(0, 4 * MiB);
    {
        FrameAllocator fa;
        EXPECT_EQ(fa.init({}, {}, ram.offset()).error(), Errno(ENOMEM));
    }
    {
        FrameAllocator fa;  // RAM only below 1 MiB
        const PhysRange mem[] = {{0, 640 * 1024}};
        EXPECT_EQ(fa.init(ranges(mem), {}, ram.offset()).error(), Errno(ENOMEM));
    }
    {
        FrameAllocator fa;  // everything reserved
        const PhysRange mem[] = {{1 * MiB, 2 * MiB}};
        const PhysRange res[] = {{0, 4 * MiB}};
        EXPECT_EQ(fa.init(ranges(mem), ranges(res), ram.offset()).error(), Errno(ENOMEM));
    }
    {
        FrameAllocator fa;  // one page: room for the bitmap but nothing else
        const PhysRange mem[] = {{1 * MiB, kPageSize}};
        EXPECT_EQ(fa.init(ranges(mem), {}, ram.offset()).error(), Errno(ENOMEM));
    }
    {
        FrameAllocator fa;  // shards of less than a page vanish
        const PhysRange mem[] = {{1 * MiB + 1, kPageSize}};
        EXPECT_EQ(fa.init(ranges(mem), {}, ram.offset()).error(), Errno(ENOMEM));
    }
    {
        FrameAllocator fa;  // too many pieces
        std::vector<PhysRange> res;
        for (int i = 0; i < 200; ++i) res.push_back({1 * MiB + (2 * i + 1) * kPageSize, kPageSize});
        const PhysRange mem[] = {{1 * MiB, 2 * MiB}};
        EXPECT_EQ(fa.init(ranges(mem), Span<const PhysRange>(res.data(), res.size()), ram.offset())
                      .error(),
                  Errno(EINVAL));
    }
    {
        FrameAllocator fa;  // a range running off the top of the address space
        const PhysRange mem[] = {{1 * MiB, 2 * MiB}, {UINT64_MAX - 0xfff, 0x10000}};
        ASSERT_TRUE(fa.init(ranges(mem), {}, ram.offset()).ok());  // the sliver is dropped
        EXPECT_EQ(fa.total_pages() + fa.bitmap_range().size / kPageSize, 2 * MiB / kPageSize);
    }
}

// Random allocations and frees checked against a model of which pages are in use.
TEST(FrameAllocator, RandomStressMatchesModel) {
    FakeRam ram(0, 40 * MiB);
    const PhysRange mem[] = {{0, 20 * MiB}, {24 * MiB, 16 * MiB}};
    const PhysRange reserved[] = {{2 * MiB, 1 * MiB}, {30 * MiB + 5, 300 * 1024}};
    FrameAllocator fa;
    ASSERT_TRUE(fa.init(ranges(mem), ranges(reserved), ram.offset()).ok());
    PhysRange bm = fa.bitmap_range();

    std::mt19937_64 rng(7);
    std::map<uint64_t, size_t> live;  // paddr -> pages
    std::set<uint64_t> used_pages;
    size_t in_use = 0;
    for (int step = 0; step < 20000; ++step) {
        bool do_alloc = live.empty() || rng() % 100 < 55;
        if (do_alloc) {
            size_t pages = 1 + rng() % (rng() % 8 == 0 ? 300 : 12);
            size_t align = size_t{1} << (rng() % 6);
            auto r = fa.alloc(pages, align);
            if (!r.ok()) {
                ASSERT_EQ(r.error(), Errno(ENOMEM));
                continue;
            }
            uint64_t pa = *r;
            ASSERT_EQ(pa % (align * kPageSize), 0u);
            ASSERT_FALSE(overlaps(pa, pages * kPageSize, bm.base, bm.size));
            for (const PhysRange& res : reserved) {
                ASSERT_FALSE(overlaps(pa, pages * kPageSize, res.base, res.size));
            }
            for (size_t i = 0; i < pages; ++i) {
                ASSERT_TRUE(used_pages.insert(pa + i * kPageSize).second) << "overlap";
            }
            live[pa] = pages;
            in_use += pages;
        } else {
            auto it = live.begin();
            std::advance(it, static_cast<long>(rng() % live.size()));
            ASSERT_TRUE(fa.free(it->first, it->second).ok());
            for (size_t i = 0; i < it->second; ++i) used_pages.erase(it->first + i * kPageSize);
            in_use -= it->second;
            live.erase(it);
        }
        ASSERT_EQ(fa.free_pages() + in_use, fa.total_pages());
    }
    for (auto& [pa, pages] : live) ASSERT_TRUE(fa.free(pa, pages).ok());
    EXPECT_EQ(fa.free_pages(), fa.total_pages());
    // Everything is free again: a run as long as the bigger piece (less
    // its reserved hole) fits once more.
    EXPECT_TRUE(fa.alloc(5 * MiB / kPageSize).ok());
}

// A 1 GiB guest: only the bitmap is backed, so the allocator must not touch
// anything else. Filling and draining every page must be quick.
TEST(FrameAllocator, OneGibGuestIsFast) {
    FakeRam ram(1 * MiB, 1 * MiB);  // backs [1 MiB, 2 MiB): where the bitmap goes
    const PhysRange mem[] = {{0, 1ull << 30}};
    FrameAllocator fa;
    ASSERT_TRUE(fa.init(ranges(mem), {}, ram.offset()).ok());
    ASSERT_LE(fa.bitmap_range().size, 1 * MiB);
    std::vector<uint64_t> pages;
    pages.reserve(fa.total_pages());
    for (;;) {
        auto r = fa.alloc(1);
        if (!r.ok()) break;
        pages.push_back(*r);
    }
    EXPECT_EQ(pages.size(), fa.total_pages());
    for (size_t i = 0; i < pages.size(); i += 2) ASSERT_TRUE(fa.free(pages[i], 1).ok());
    size_t n = 0;
    while (fa.alloc(1).ok()) ++n;
    EXPECT_EQ(n, (pages.size() + 1) / 2);
    EXPECT_EQ(fa.alloc(2).error(), Errno(ENOMEM));  // scans the whole map, word by word
}

}  // namespace
