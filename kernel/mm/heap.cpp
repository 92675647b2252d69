#include "mm/heap.h"

namespace kiln::mm {
namespace {

constexpr uintptr_t kPage = 4096;
constexpr size_t kHeaderSize = 64;            // objects start here, 64-byte aligned
constexpr uint32_t kSlabMagic = 0x534c4142;   // "SLAB"
constexpr uint32_t kLargeMagic = 0x4c415247;  // "LARG"

// Sizes chosen so each class fills a page well once the 64-byte header is
// taken: the powers of two serve over-aligned requests (a class serves
// alignment a <= 64 when a divides its size), the rest cut waste.
constexpr uint16_t kClassSize[Heap::kNumClasses] = {16,  32,  48,  64,  96,   128,  192,
                                                    256, 384, 512, 672, 1008, 1344, 2016};
static_assert(kClassSize[Heap::kNumClasses - 1] == kHeapMaxSmall);

constexpr size_t objects_per_slab(size_t cls) {
    return (kPage - kHeaderSize) / kClassSize[cls];
}

struct LargeHeader {
    uint32_t magic;
    void* block;  // what the page source returned
    size_t pages;
    void* data;  // the pointer handed out
    size_t usable;
};
static_assert(sizeof(LargeHeader) <= kHeaderSize);

uintptr_t header_of(const void* p) {
    return (reinterpret_cast<uintptr_t>(p) - 1) & ~(kPage - 1);
}

bool is_pow2(size_t v) {
    return v != 0 && (v & (v - 1)) == 0;
}

}  // namespace

struct Heap::Slab {
    uint32_t magic;
    uint16_t cls;
    uint16_t free_count;
    Slab* next;
    Slab* prev;
    uint64_t free_bits[4];  // bit set: object free

    uintptr_t objects() const { return reinterpret_cast<uintptr_t>(this) + kHeaderSize; }
};
static_assert((kPage - kHeaderSize) / 16 <= 4 * 64, "free_bits too small for the 16-byte class");

void Heap::push(Slab* slab) {
    slab->prev = nullptr;
    slab->next = partial_[slab->cls];
    if (slab->next != nullptr) slab->next->prev = slab;
    partial_[slab->cls] = slab;
}

void Heap::unlink(Slab* slab) {
    if (slab->prev != nullptr) {
        slab->prev->next = slab->next;
    } else {
        partial_[slab->cls] = slab->next;
    }
    if (slab->next != nullptr) slab->next->prev = slab->prev;
    slab->next = slab->prev = nullptr;
}

void* Heap::alloc(size_t size, size_t align) {
    if (align == 0) align = 16;
    if (!is_pow2(align) || source_.alloc_pages == nullptr) {
        ++stats_.failed_allocations;
        return nullptr;
    }
    if (size == 0) size = 1;
    if (align < 16) align = 16;
    if (align <= kHeaderSize) {
        for (size_t cls = 0; cls < kNumClasses; ++cls) {
            if (kClassSize[cls] >= size && kClassSize[cls] % align == 0) return alloc_small(cls);
        }
    }
    return alloc_large(size, align);
}

void* Heap::alloc_small(size_t cls) {
    static_assert(sizeof(Slab) <= kHeaderSize);
    Slab* slab = partial_[cls];
    if (slab == nullptr) {
        void* page = source_.alloc_pages(source_.ctx, 1);
        if (page == nullptr) {
            ++stats_.failed_allocations;
            return nullptr;
        }
        if ((reinterpret_cast<uintptr_t>(page) & (kPage - 1)) != 0) {
            // A broken page source; the header lookup needs page alignment.
            source_.free_pages(source_.ctx, page, 1);
            ++stats_.failed_allocations;
            return nullptr;
        }
        // SAFETY: the page source handed us this page for our exclusive use.
        slab = static_cast<Slab*>(page);
        size_t n = objects_per_slab(cls);
        slab->magic = kSlabMagic;
        slab->cls = static_cast<uint16_t>(cls);
        slab->free_count = static_cast<uint16_t>(n);
        for (size_t w = 0; w < 4; ++w) {
            size_t bits = n > w * 64 ? n - w * 64 : 0;
            slab->free_bits[w] = bits >= 64 ? ~0ull : (1ull << bits) - 1;
        }
        push(slab);
        ++stats_.slab_pages;
    }
    size_t w = 0;
    while (slab->free_bits[w] == 0) ++w;  // free_count > 0, so a bit is set
    size_t idx = w * 64 + static_cast<size_t>(__builtin_ctzll(slab->free_bits[w]));
    slab->free_bits[w] &= slab->free_bits[w] - 1;
    if (--slab->free_count == 0) unlink(slab);
    ++stats_.live_allocations;
    stats_.bytes_in_use += kClassSize[cls];
    return reinterpret_cast<void*>(slab->objects() + idx * kClassSize[cls]);
}

void* Heap::alloc_large(size_t size, size_t align) {
    // Below a page of alignment the header shares the first page with the
    // data; otherwise it gets the page just before the aligned data.
    size_t pages;
    size_t lead = align < kPage ? (align > kHeaderSize ? align : kHeaderSize) : align;
    if (size > SIZE_MAX - lead - (kPage - 1)) {
        ++stats_.failed_allocations;
        return nullptr;
    }
    pages = (lead + size + kPage - 1) / kPage;
    void* block = source_.alloc_pages(source_.ctx, pages);
    if (block == nullptr) {
        ++stats_.failed_allocations;
        return nullptr;
    }
    uintptr_t base = reinterpret_cast<uintptr_t>(block);
    if ((base & (kPage - 1)) != 0) {
        source_.free_pages(source_.ctx, block, pages);
        ++stats_.failed_allocations;
        return nullptr;
    }
    uintptr_t data;
    if (align < kPage) {
        data = base + lead;
    } else {
        data = (base + kPage + align - 1) & ~(static_cast<uintptr_t>(align) - 1);
    }
    // SAFETY: data - kPage lies inside the block the page source gave us
    // (data >= base + lead >= base + kPage, or data = base + lead < base + kPage).
    auto* hdr = reinterpret_cast<LargeHeader*>(header_of(reinterpret_cast<void*>(data)));
    hdr->magic = kLargeMagic;
    hdr->block = block;
    hdr->pages = pages;
    hdr->data = reinterpret_cast<void*>(data);
    hdr->usable = base + pages * kPage - data;
    stats_.large_pages += pages;
    ++stats_.live_allocations;
    stats_.bytes_in_use += hdr->usable;
    return hdr->data;
}

Result<void> Heap::free(void* p) {
    if (p == nullptr) return {};
    // SAFETY: for pointers this heap returned, the page holding p - 1 starts
    // with a header; for anything else the magic check is a best effort.
    uintptr_t h = header_of(p);
    uint32_t magic = *reinterpret_cast<const uint32_t*>(h);
    if (magic == kSlabMagic) return free_small(reinterpret_cast<Slab*>(h), p);
    if (magic == kLargeMagic) {
        auto* hdr = reinterpret_cast<LargeHeader*>(h);
        if (hdr->data != p) {
            ++stats_.invalid_frees;
            return Error(Errno::kEINVAL);
        }
        void* block = hdr->block;
        size_t pages = hdr->pages;
        --stats_.live_allocations;
        stats_.bytes_in_use -= hdr->usable;
        stats_.large_pages -= pages;
        hdr->magic = 0;  // a second free of p now fails the magic check
        source_.free_pages(source_.ctx, block, pages);
        return {};
    }
    ++stats_.invalid_frees;
    return Error(Errno::kEINVAL);
}

Result<void> Heap::free_small(Slab* slab, void* p) {
    size_t size = kClassSize[slab->cls];
    uintptr_t off = reinterpret_cast<uintptr_t>(p) - slab->objects();
    size_t n = objects_per_slab(slab->cls);
    if (reinterpret_cast<uintptr_t>(p) < slab->objects() || off % size != 0 || off / size >= n) {
        ++stats_.invalid_frees;
        return Error(Errno::kEINVAL);
    }
    size_t idx = off / size;
    uint64_t bit = 1ull << (idx % 64);
    if ((slab->free_bits[idx / 64] & bit) != 0) {
        ++stats_.invalid_frees;  // double free
        return Error(Errno::kEINVAL);
    }
    slab->free_bits[idx / 64] |= bit;
    --stats_.live_allocations;
    stats_.bytes_in_use -= size;
    if (++slab->free_count == 1) push(slab);
    // Keep one empty slab per class against alloc/free ping-pong; give the
    // page back when the class has other slabs with room.
    if (slab->free_count == n && (slab->prev != nullptr || slab->next != nullptr)) {
        unlink(slab);
        slab->magic = 0;
        --stats_.slab_pages;
        source_.free_pages(source_.ctx, slab, 1);
    }
    return {};
}

size_t Heap::usable_size(const void* p) const {
    if (p == nullptr) return 0;
    uintptr_t h = header_of(p);
    uint32_t magic = *reinterpret_cast<const uint32_t*>(h);
    if (magic == kSlabMagic) {
        const auto* slab = reinterpret_cast<const Slab*>(h);
        size_t size = kClassSize[slab->cls];
        uintptr_t addr = reinterpret_cast<uintptr_t>(p);
        if (addr < slab->objects()) return 0;
        uintptr_t off = addr - slab->objects();
        if (off % size != 0 || off / size >= objects_per_slab(slab->cls)) return 0;
        size_t idx = off / size;
        if ((slab->free_bits[idx / 64] >> (idx % 64)) & 1) return 0;
        return size;
    }
    if (magic == kLargeMagic) {
        const auto* hdr = reinterpret_cast<const LargeHeader*>(h);
        return hdr->data == p ? hdr->usable : 0;
    }
    return 0;
}

namespace {
constinit Heap g_heap;
void (*g_on_invalid_free)(void* p) = nullptr;
}  // namespace

void heap_init(const PageSource& source, void (*on_invalid_free)(void* p)) {
    g_heap.init(source);
    g_on_invalid_free = on_invalid_free;
}

void* heap_alloc(size_t size, size_t align) {
    return g_heap.alloc(size, align);
}

void heap_free(void* p) {
    if (!g_heap.free(p).ok() && g_on_invalid_free != nullptr) g_on_invalid_free(p);
}

size_t heap_usable_size(const void* p) {
    return g_heap.usable_size(p);
}

HeapStats heap_stats() {
    return g_heap.stats();
}

}  // namespace kiln::mm
