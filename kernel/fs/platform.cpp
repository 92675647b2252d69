// kernel/fs on the machine: file pages from the frame allocator, times from
// the wall clock.
#include "fs/platform.h"

#include "arch/x86_64/clock.h"
#include "arch/x86_64/paging.h"
#include "mm/memory.h"

namespace kiln::fs {

void* alloc_page() {
    auto pa = mm::frames().alloc(1);
    if (!pa.ok()) return nullptr;
    return arch::phys_to_virt(*pa);
}

void free_page(void* page) {
    if (page == nullptr) return;
    uint64_t pa = arch::kernel_virt_to_phys(page);
    (void)mm::frames().free(pa, 1);
}

int64_t now_ns() { return static_cast<int64_t>(arch::wall_ns()); }

}  // namespace kiln::fs
