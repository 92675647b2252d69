#include "mm/heap.h"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <string.h>

#include <map>
#include <random>
#include <vector>

#include "mm/frame_allocator.h"

using kiln::Errno;
using kiln::mm::Heap;
using kiln::mm::PageSource;

// <errno.h> (pulled in by gtest) defines the errno names as macros with
// Linux's values, so expected errors are written Errno(EINVAL).

namespace {

constexpr size_t kPage = 4096;

// Pages from a fixed buffer; can be capped to simulate exhaustion and checks
// that the heap frees exactly what it allocated.
class TestPages {
public:
    explicit TestPages(size_t pages) : pages_(pages), used_(pages, false) {
        mem_ = static_cast<uint8_t*>(aligned_alloc(kPage, pages * kPage));
    }
    ~TestPages() { ::free(mem_); }

    PageSource source() { return PageSource{&TestPages::alloc_cb, &TestPages::free_cb, this}; }

    size_t limit = SIZE_MAX;  // pages that may be outstanding at once
    size_t outstanding = 0;
    int bad_frees = 0;

    bool owns(const void* p) const {
        auto a = reinterpret_cast<uintptr_t>(p);
        auto b = reinterpret_cast<uintptr_t>(mem_);
        return a >= b && a < b + pages_ * kPage;
    }

private:
    static void* alloc_cb(void* ctx, size_t n) { return static_cast<TestPages*>(ctx)->alloc(n); }
    static void free_cb(void* ctx, void* p, size_t n) {
        static_cast<TestPages*>(ctx)->release(p, n);
    }

    void* alloc(size_t n) {
        if (n == 0 || outstanding + n > limit || n > pages_) return nullptr;
        for (size_t i = 0; i + n <= pages_; ++i) {
            size_t j = 0;
            while (j < n && !used_[i + j]) ++j;
            if (j == n) {
                for (j = 0; j < n; ++j) used_[i + j] = true;
                blocks_[i] = n;
                outstanding += n;
                return mem_ + i * kPage;
            }
            i += j;
        }
        return nullptr;
    }
    void release(void* p, size_t n) {
        size_t i = static_cast<size_t>(static_cast<uint8_t*>(p) - mem_) / kPage;
        auto it = blocks_.find(i);
        if (!owns(p) || it == blocks_.end() || it->second != n) {
            ++bad_frees;
            return;
        }
        for (size_t j = 0; j < n; ++j) used_[i + j] = false;
        blocks_.erase(it);
        outstanding -= n;
    }

    size_t pages_;
    std::vector<bool> used_;
    std::map<size_t, size_t> blocks_;
    uint8_t* mem_;
};

class HeapTest : public ::testing::Test {
protected:
    HeapTest() : pages(1024) { heap.init(pages.source()); }
    TestPages pages;
    Heap heap;
};

TEST_F(HeapTest, EverySizeUpToSeveralPagesIsUsableAndAligned) {
    std::vector<void*> ptrs;
    for (size_t size = 0; size <= 3 * kPage; size += (size < 2100 ? 1 : 61)) {
        void* p = heap.alloc(size);
        ASSERT_NE(p, nullptr) << size;
        EXPECT_EQ(reinterpret_cast<uintptr_t>(p) % 16, 0u) << size;
        EXPECT_GE(heap.usable_size(p), size);
        memset(p, 0x5a, size);
        ptrs.push_back(p);
        if (ptrs.size() > 64) {
            ASSERT_TRUE(heap.free(ptrs.front()).ok());
            ptrs.erase(ptrs.begin());
        }
    }
    for (void* p : ptrs) ASSERT_TRUE(heap.free(p).ok());
    EXPECT_EQ(heap.stats().live_allocations, 0u);
    EXPECT_EQ(heap.stats().bytes_in_use, 0u);
    EXPECT_EQ(pages.bad_frees, 0);
}

TEST_F(HeapTest, SizeClassesRoundUpSensibly) {
    const size_t classes[] = {16, 32, 48, 64, 96, 128, 192, 256, 384, 512, 672, 1008, 1344, 2016};
    size_t prev = 0;
    for (size_t c : classes) {
        void* at = heap.alloc(c);
        void* above = heap.alloc(prev + 1);
        EXPECT_EQ(heap.usable_size(at), c);
        EXPECT_EQ(heap.usable_size(above), c) << prev + 1;
        ASSERT_TRUE(heap.free(at).ok());
        ASSERT_TRUE(heap.free(above).ok());
        prev = c;
    }
    // Past the last class: whole pages, the first sharing its page with a header.
    void* big = heap.alloc(2017);
    EXPECT_EQ(heap.stats().large_pages, 1u);
    EXPECT_GE(heap.usable_size(big), 2017u);
    EXPECT_LT(heap.usable_size(big), kPage);
    ASSERT_TRUE(heap.free(big).ok());
    EXPECT_EQ(heap.stats().large_pages, 0u);
}

TEST_F(HeapTest, ObjectsOfAClassFillASlabWithoutOverlap) {
    for (size_t size : {16u, 48u, 2016u}) {
        size_t per_slab = (kPage - 64) / size;
        std::vector<uint8_t*> ptrs;
        size_t pages_before = pages.outstanding;
        for (size_t i = 0; i < per_slab; ++i) {
            auto* p = static_cast<uint8_t*>(heap.alloc(size));
            ASSERT_NE(p, nullptr);
            memset(p, static_cast<int>(i), size);
            ptrs.push_back(p);
        }
        EXPECT_EQ(pages.outstanding - pages_before, 1u) << size;  // one slab
        for (size_t i = 0; i < ptrs.size(); ++i) {
            for (size_t b = 0; b < size; ++b) ASSERT_EQ(ptrs[i][b], static_cast<uint8_t>(i));
        }
        void* next = heap.alloc(size);  // the next object needs a second slab
        EXPECT_EQ(pages.outstanding - pages_before, 2u) << size;
        ASSERT_TRUE(heap.free(next).ok());
        for (auto* p : ptrs) ASSERT_TRUE(heap.free(p).ok());
    }
}

TEST_F(HeapTest, AlignmentIsHonoured) {
    std::vector<void*> ptrs;
    for (size_t align = 1; align <= 64 * 1024; align *= 2) {
        for (size_t size : {1u, 15u, 64u, 100u, 500u, 2000u, 5000u, 70000u}) {
            void* p = heap.alloc(size, align);
            ASSERT_NE(p, nullptr) << size << "/" << align;
            EXPECT_EQ(reinterpret_cast<uintptr_t>(p) % align, 0u) << size << "/" << align;
            EXPECT_EQ(reinterpret_cast<uintptr_t>(p) % 16, 0u);
            EXPECT_GE(heap.usable_size(p), size);
            memset(p, 0x11, size);
            ptrs.push_back(p);
        }
        for (void* p : ptrs) ASSERT_TRUE(heap.free(p).ok());
        ptrs.clear();
    }
    EXPECT_EQ(pages.bad_frees, 0);
    EXPECT_EQ(heap.stats().large_pages, 0u);
}

TEST_F(HeapTest, BadAlignmentFails) {
    EXPECT_EQ(heap.alloc(16, 3), nullptr);
    EXPECT_EQ(heap.alloc(16, 48), nullptr);
    EXPECT_EQ(heap.stats().failed_allocations, 2u);
    void* p = heap.alloc(16, 0);  // 0 means the default
    EXPECT_NE(p, nullptr);
    ASSERT_TRUE(heap.free(p).ok());
}

TEST_F(HeapTest, HugeSizesFailWithoutWrapping) {
    EXPECT_EQ(heap.alloc(SIZE_MAX), nullptr);
    EXPECT_EQ(heap.alloc(SIZE_MAX - 4096), nullptr);
    EXPECT_EQ(heap.alloc(SIZE_MAX / 2, 1 << 20), nullptr);
    EXPECT_EQ(heap.alloc(2000 * kPage), nullptr);  // more than the source has
    EXPECT_EQ(pages.outstanding, 0u);
}

TEST_F(HeapTest, ExhaustionReturnsNullAndRecovers) {
    pages.limit = 8;
    std::vector<void*> small;
    for (;;) {
        void* p = heap.alloc(100);
        if (p == nullptr) break;
        small.push_back(p);
    }
    EXPECT_EQ(small.size(), 8 * ((kPage - 64) / 128));
    EXPECT_EQ(heap.alloc(3 * kPage), nullptr);
    EXPECT_EQ(heap.alloc(16), nullptr);  // a fresh class needs a page too
    EXPECT_GE(heap.stats().failed_allocations, 3u);

    // Freeing a whole slab's worth gives a page back for other classes.
    for (size_t i = 0; i < 2 * ((kPage - 64) / 128); ++i) ASSERT_TRUE(heap.free(small[i]).ok());
    void* p = heap.alloc(16);
    EXPECT_NE(p, nullptr);
    ASSERT_TRUE(heap.free(p).ok());
    for (size_t i = 2 * ((kPage - 64) / 128); i < small.size(); ++i) {
        ASSERT_TRUE(heap.free(small[i]).ok());
    }
    EXPECT_EQ(heap.stats().live_allocations, 0u);
}

TEST_F(HeapTest, FreedMemoryIsReused) {
    void* a = heap.alloc(40);
    void* b = heap.alloc(40);
    ASSERT_TRUE(heap.free(a).ok());
    EXPECT_EQ(heap.alloc(40), a);
    ASSERT_TRUE(heap.free(b).ok());
    ASSERT_TRUE(heap.free(a).ok());

    void* big = heap.alloc(5 * kPage);
    ASSERT_TRUE(heap.free(big).ok());
    EXPECT_EQ(pages.outstanding, heap.stats().slab_pages);  // large pages went back
    void* again = heap.alloc(5 * kPage);
    EXPECT_EQ(again, big);
    ASSERT_TRUE(heap.free(again).ok());
}

TEST_F(HeapTest, EmptySlabsGoBackButOneIsKept) {
    std::vector<void*> ptrs;
    size_t per_slab = (kPage - 64) / 64;
    for (size_t i = 0; i < 3 * per_slab; ++i) ptrs.push_back(heap.alloc(64));
    EXPECT_EQ(heap.stats().slab_pages, 3u);
    for (void* p : ptrs) ASSERT_TRUE(heap.free(p).ok());
    EXPECT_EQ(heap.stats().slab_pages, 1u);
    EXPECT_EQ(pages.outstanding, 1u);
    EXPECT_EQ(pages.bad_frees, 0);
}

TEST_F(HeapTest, DoubleFreeAndStrayPointersAreDetected) {
    auto* small = static_cast<uint8_t*>(heap.alloc(32));
    auto* other = static_cast<uint8_t*>(heap.alloc(32));  // keeps the slab alive
    auto* large = static_cast<uint8_t*>(heap.alloc(3 * kPage));
    ASSERT_TRUE(heap.free(small).ok());
    EXPECT_EQ(heap.free(small).error(), Errno(EINVAL));             // double free
    EXPECT_EQ(heap.free(other + 8).error(), Errno(EINVAL));         // inside an object
    EXPECT_EQ(heap.free(other + 32 * 200).error(), Errno(EINVAL));  // past the last object
    EXPECT_EQ(heap.free(large + 16).error(), Errno(EINVAL));        // inside a large block
    EXPECT_EQ(heap.free(large + kPage).error(), Errno(EINVAL));     // a later page of it

    alignas(16) static uint8_t not_heap[2 * kPage];
    memset(not_heap, 0, sizeof(not_heap));
    EXPECT_EQ(heap.free(not_heap + kPage + 64).error(), Errno(EINVAL));
    EXPECT_EQ(heap.stats().invalid_frees, 6u);
    EXPECT_EQ(heap.usable_size(small), 0u);
    EXPECT_EQ(heap.usable_size(other + 8), 0u);
    EXPECT_EQ(heap.usable_size(large + 16), 0u);

    ASSERT_TRUE(heap.free(large).ok());
    // The pages are still mapped here (the test source keeps its buffer), so
    // a second free reads the cleared header and is caught.
    EXPECT_EQ(heap.free(large).error(), Errno(EINVAL));
    ASSERT_TRUE(heap.free(other).ok());
    EXPECT_TRUE(heap.free(nullptr).ok());
    EXPECT_EQ(heap.stats().live_allocations, 0u);
    EXPECT_EQ(pages.bad_frees, 0);
}

TEST(Heap, WithoutAPageSourceEverythingFails) {
    Heap heap;
    EXPECT_EQ(heap.alloc(16), nullptr);
    EXPECT_EQ(heap.stats().failed_allocations, 1u);
}

TEST(Heap, MisalignedPagesFromTheSourceAreRefused) {
    static uint8_t buf[3 * kPage] __attribute__((aligned(4096)));
    static int frees = 0;
    PageSource bad{[](void*, size_t) -> void* { return buf + 16; },
                   [](void*, void*, size_t) { ++frees; }, nullptr};
    Heap heap;
    heap.init(bad);
    EXPECT_EQ(heap.alloc(16), nullptr);
    EXPECT_EQ(heap.alloc(5000), nullptr);
    EXPECT_EQ(frees, 2);
}

// Random allocations of random sizes and alignments checked against a model:
// every block is aligned, lies in the page source's memory, overlaps no other
// live block, and keeps its contents until freed.
TEST_F(HeapTest, RandomStressMatchesModel) {
    std::mt19937 rng(42);
    struct Block {
        size_t size;
        uint8_t fill;
    };
    std::map<uintptr_t, Block> live;
    size_t nulls = 0;
    pages.limit = 120;  // let it run dry now and then
    for (int step = 0; step < 40000; ++step) {
        if (live.empty() || rng() % 100 < 52) {
            size_t size;
            switch (rng() % 10) {
                case 0:
                    size = rng() % (5 * kPage);
                    break;
                case 1:
                    size = rng() % 2100;
                    break;
                default:
                    size = rng() % 200;
                    break;
            }
            size_t align = rng() % 8 == 0 ? size_t{1} << (rng() % 14) : 16;
            auto* p = static_cast<uint8_t*>(heap.alloc(size, align));
            if (p == nullptr) {
                ++nulls;
                continue;
            }
            auto a = reinterpret_cast<uintptr_t>(p);
            ASSERT_EQ(a % align, 0u);
            ASSERT_TRUE(pages.owns(p));
            ASSERT_TRUE(pages.owns(p + (size ? size - 1 : 0)));
            auto next = live.lower_bound(a);
            if (next != live.end()) {
                ASSERT_LE(a + (size ? size : 1), next->first) << "overlap";
            }
            if (next != live.begin()) {
                auto prev = std::prev(next);
                ASSERT_LE(prev->first + (prev->second.size ? prev->second.size : 1), a)
                    << "overlap";
            }
            uint8_t fill = static_cast<uint8_t>(rng());
            memset(p, fill, size);
            live[a] = Block{size, fill};
        } else {
            auto it = live.begin();
            std::advance(it, static_cast<long>(rng() % live.size()));
            auto* p = reinterpret_cast<uint8_t*>(it->first);
            for (size_t i = 0; i < it->second.size; ++i) ASSERT_EQ(p[i], it->second.fill);
            ASSERT_TRUE(heap.free(p).ok());
            live.erase(it);
        }
        ASSERT_EQ(heap.stats().live_allocations, live.size());
    }
    EXPECT_GT(nulls, 0u);  // the cap was hit at least once
    for (auto& [a, b] : live) ASSERT_TRUE(heap.free(reinterpret_cast<void*>(a)).ok());
    EXPECT_EQ(heap.stats().live_allocations, 0u);
    EXPECT_EQ(heap.stats().bytes_in_use, 0u);
    EXPECT_EQ(heap.stats().large_pages, 0u);
    EXPECT_LE(pages.outstanding, Heap::kNumClasses);  // at most one kept slab per class
    EXPECT_EQ(pages.bad_frees, 0);
    EXPECT_EQ(heap.stats().invalid_frees, 0u);
}

// The global heap, backed by the frame allocator as the kernel wires it.
struct FramesAsPages {
    kiln::mm::FrameAllocator* fa;
    uint64_t offset;
};

TEST(GlobalHeap, RunsOnTheFrameAllocator) {
    constexpr uint64_t kMiB = 1 << 20;
    auto* ram = static_cast<uint8_t*>(aligned_alloc(kPage, 8 * kMiB));
    static kiln::mm::FrameAllocator fa;
    const kiln::mm::PhysRange mem[] = {{1 * kMiB, 8 * kMiB}};
    static FramesAsPages ctx{&fa, reinterpret_cast<uint64_t>(ram) - 1 * kMiB};
    ASSERT_TRUE(fa.init(kiln::Span<const kiln::mm::PhysRange>(mem, 1), {}, ctx.offset).ok());

    PageSource src{[](void* c, size_t n) -> void* {
                       auto* f = static_cast<FramesAsPages*>(c);
                       auto r = f->fa->alloc(n);
                       return r.ok() ? reinterpret_cast<void*>(*r + f->offset) : nullptr;
                   },
                   [](void* c, void* p, size_t n) {
                       auto* f = static_cast<FramesAsPages*>(c);
                       EXPECT_TRUE(f->fa->free(reinterpret_cast<uint64_t>(p) - f->offset, n).ok());
                   },
                   &ctx};
    static void* bad_seen = nullptr;
    kiln::mm::heap_init(src, [](void* p) { bad_seen = p; });

    size_t free_before = fa.free_pages();
    void* a = kiln::mm::heap_alloc(24);
    void* b = kiln::mm::heap_alloc(10000, 4096);
    ASSERT_NE(a, nullptr);
    ASSERT_NE(b, nullptr);
    EXPECT_EQ(reinterpret_cast<uintptr_t>(b) % 4096, 0u);
    EXPECT_EQ(kiln::mm::heap_usable_size(a), 32u);
    EXPECT_EQ(kiln::mm::heap_stats().live_allocations, 2u);
    kiln::mm::heap_free(b);
    kiln::mm::heap_free(a);
    EXPECT_EQ(bad_seen, nullptr);
    kiln::mm::heap_free(a);
    EXPECT_EQ(bad_seen, a);
    EXPECT_EQ(kiln::mm::heap_stats().live_allocations, 0u);
    EXPECT_EQ(fa.free_pages(), free_before - 1);  // the one kept slab
    // ram stays allocated: the global heap keeps its slab there.
}

}  // namespace
