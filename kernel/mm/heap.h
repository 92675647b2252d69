// The kernel heap. Small requests (up to 2016 bytes) come from size classes
// carved out of 4 KiB slabs; larger ones, or ones aligned beyond 64 bytes, get
// whole pages. Pages come from a PageSource, so the kernel backs the heap with
// the frame allocator and host tests with a buffer they can run dry.
//
// Every allocation can fail: heap_alloc returns nullptr and the caller copes.
// Each slab and each large block starts with a header at the start of the
// page holding (p - 1), so a free finds its metadata from the pointer alone;
// a per-slab bitmap of free objects catches double frees exactly, and a magic
// number catches most stray pointers.
//
// Not thread-safe: callers serialise.
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "kiln/result.h"

namespace kiln::mm {

// Where the heap gets memory. alloc_pages returns n contiguous, 4 KiB-aligned
// pages or nullptr; free_pages gets back exactly what alloc_pages returned.
struct PageSource {
    void* (*alloc_pages)(void* ctx, size_t n) = nullptr;
    void (*free_pages)(void* ctx, void* p, size_t n) = nullptr;
    void* ctx = nullptr;
};

struct HeapStats {
    size_t live_allocations;
    size_t bytes_in_use;        // rounded up to the size class / usable size
    size_t slab_pages;          // pages holding slabs, including empty ones kept
    size_t large_pages;         // pages holding large allocations
    size_t failed_allocations;  // nullptr returns (exhaustion or bad arguments)
    size_t invalid_frees;       // double frees and pointers the heap never gave out
};

inline constexpr size_t kHeapMaxSmall = 2016;  // largest size class

class Heap {
public:
    static constexpr size_t kNumClasses = 14;

    constexpr Heap() = default;
    Heap(const Heap&) = delete;
    Heap& operator=(const Heap&) = delete;

    void init(const PageSource& source) { source_ = source; }

    // size bytes aligned to align (a power of two; 0 is treated as 16);
    // nullptr when out of memory or align is not a power of two. A size of
    // 0 yields a unique minimal allocation.
    void* alloc(size_t size, size_t align = 16);
    // EINVAL, changing nothing, for a double free or a pointer this heap did
    // not return; nullptr is fine.
    [[nodiscard]] Result<void> free(void* p);
    // The bytes usable at p (>= the size asked for), 0 for an invalid p.
    size_t usable_size(const void* p) const;
    HeapStats stats() const { return stats_; }

private:
    struct Slab;
    void* alloc_small(size_t cls);
    void* alloc_large(size_t size, size_t align);
    Result<void> free_small(Slab* slab, void* p);
    void unlink(Slab* slab);
    void push(Slab* slab);

    PageSource source_;
    Slab* partial_[kNumClasses] = {};  // slabs with at least one free object
    HeapStats stats_ = {};
};

// The kernel's heap: a global Heap behind plain functions. on_invalid_free
// runs when heap_free meets a bad pointer (the kernel panics there).
void heap_init(const PageSource& source, void (*on_invalid_free)(void* p) = nullptr);
void* heap_alloc(size_t size, size_t align = 16);
void heap_free(void* p);
size_t heap_usable_size(const void* p);
HeapStats heap_stats();

}  // namespace kiln::mm
