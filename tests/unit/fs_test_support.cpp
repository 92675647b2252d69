#include "fs_test_support.h"

#include <stdint.h>
#include <stdlib.h>

#include "fs/platform.h"
#include "mm/heap.h"

namespace {
size_t g_live = 0;
long g_fail_after = -1;
int64_t g_clock = 1700000000LL * 1000000000LL;
}  // namespace

namespace kiln_test {

void use_malloc_heap() {
    kiln::mm::PageSource src{
        [](void*, size_t n) -> void* { return aligned_alloc(4096, n * 4096); },
        [](void*, void*, size_t) {}, nullptr};
    kiln::mm::heap_init(src, [](void*) { abort(); });
}

size_t fs_pages_live() { return g_live; }
void fs_fail_pages_after(long n) { g_fail_after = n; }

}  // namespace kiln_test

namespace kiln::fs {

void* alloc_page() {
    if (g_fail_after == 0) return nullptr;
    if (g_fail_after > 0) g_fail_after--;
    g_live++;
    return aligned_alloc(4096, 4096);
}

void free_page(void* p) {
    if (p == nullptr) return;
    g_live--;
    free(p);
}

int64_t now_ns() { return g_clock += 1000; }

}  // namespace kiln::fs
