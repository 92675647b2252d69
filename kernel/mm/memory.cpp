#include "mm/memory.h"

#include "abi/boot.h"
#include "arch/x86_64/arch.h"
#include "arch/x86_64/paging.h"
#include "klog.h"

extern "C" char __kernel_start[], __kernel_end[], __text_start[], __text_end[];
extern "C" char __rodata_start[], __rodata_end[], __data_start[], __data_end[];
extern "C" char __ksyms_start[], __ksyms_end[], kiln_boot_stack_guard[];

namespace kiln::mm {
namespace {

constexpr uint64_t k2M = 2ull << 20;

FrameAllocator frame_allocator;

// Page-table pages before the frame allocator exists: a bump region right
// after the kernel image, reserved for good once the allocator starts.
uint64_t early_next = 0, early_limit = 0;

uint64_t early_alloc(uint64_t pages, uint64_t align_pages) {
    uint64_t align = align_pages * kPageSize;
    uint64_t pa = (early_next + align - 1) & ~(align - 1);
    if (pa + pages * kPageSize > early_limit) return 0;
    early_next = pa + pages * kPageSize;
    return pa;
}

uint64_t frame_alloc(uint64_t pages, uint64_t align_pages) {
    auto r = frame_allocator.alloc(pages, align_pages);
    return r.ok() ? *r : 0;
}

void frame_free(uint64_t pa) {
    if (!frame_allocator.free(pa, 1).ok()) klog::error("kiln: a page-table page freed twice");
}

uint64_t pa_of(const char* image_va) {
    return arch::virt_to_phys_image(image_va);
}

bool overlaps(uint64_t a, uint64_t an, uint64_t b, uint64_t bn) {
    return a < b + bn && b < a + an;
}

Result<void> map_image(arch::AddressSpace& as) {
    auto va = [](const char* p) { return reinterpret_cast<uint64_t>(p); };
    TRY(as.map(va(__text_start), pa_of(__text_start), va(__text_end) - va(__text_start), 0));
    TRY(as.map(va(__rodata_start), pa_of(__rodata_start), va(__rodata_end) - va(__rodata_start),
               arch::kPteNoExec));
    // .data and .bss, leaving the boot stack's guard page unmapped.
    uint64_t guard = va(kiln_boot_stack_guard);
    TRY(as.map(va(__data_start), pa_of(__data_start), guard - va(__data_start),
               arch::kPteWrite | arch::kPteNoExec));
    TRY(as.map(guard + kPageSize, pa_of(kiln_boot_stack_guard) + kPageSize,
               va(__data_end) - guard - kPageSize, arch::kPteWrite | arch::kPteNoExec));
    if (__ksyms_end > __ksyms_start) {
        TRY(as.map(va(__ksyms_start), pa_of(__ksyms_start), va(__ksyms_end) - va(__ksyms_start),
                   arch::kPteNoExec));
    }
    return {};
}

// The direct map: all RAM, read-write, never executable, without the
// kernel image (whose only mapping is the W^X one above).
Result<void> map_direct(arch::AddressSpace& as, const BootInfo& boot, uint64_t img,
                        uint64_t img_end) {
    const uint64_t flags = arch::kPteWrite | arch::kPteNoExec;
    for (int i = 0; i < boot.ram_count; i++) {
        uint64_t start = (boot.ram[i].addr + kPageSize - 1) & ~(kPageSize - 1);
        uint64_t end = (boot.ram[i].addr + boot.ram[i].size) & ~(kPageSize - 1);
        uint64_t pa = start;
        while (pa < end) {
            uint64_t next;
            if ((pa & (k2M - 1)) == 0 && pa + k2M <= end &&
                !overlaps(pa, k2M, img, img_end - img)) {
                TRY(as.map_large(arch::kDirectMapBase + pa, pa, k2M, flags));
                next = pa + k2M;
            } else {
                next = (pa + k2M) & ~(k2M - 1);
                if (next > end) next = end;
                for (uint64_t p = pa; p < next; p += kPageSize) {
                    if (overlaps(p, kPageSize, img, img_end - img)) continue;
                    TRY(as.map(arch::kDirectMapBase + p, p, kPageSize, flags));
                }
            }
            pa = next;
        }
    }
    return {};
}

void* heap_pages(void*, size_t n) {
    auto r = frame_allocator.alloc(n);
    return r.ok() ? arch::phys_to_virt(*r) : nullptr;
}

void heap_free_pages(void*, void* p, size_t n) {
    uint64_t pa = reinterpret_cast<uint64_t>(p) - arch::kDirectMapBase;
    if (!frame_allocator.free(pa, n).ok()) klog::error("kiln: heap returned pages it does not own");
}

}  // namespace

FrameAllocator& frames() {
    return frame_allocator;
}

Result<void> init_memory(const BootInfo& boot) {
    const uint64_t img = pa_of(__kernel_start);
    const uint64_t img_end = pa_of(__kernel_end);
    // Page tables for 1 GiB of RAM take ~3 pages; allow for large guests.
    early_next = img_end;
    early_limit = img_end + 96 * kPageSize;
    for (int i = 0; i < boot.module_count; i++) {
        if (overlaps(img_end, early_limit - img_end, boot.modules[i].addr, boot.modules[i].size)) {
            klog::error("kiln: an initrd overlaps the kernel's early memory");
            return Error(Errno::kENOMEM);
        }
    }

    arch::AddressSpace& as = arch::kernel_address_space();
    if (boot.kernel_tables_end != 0) {
        // kiln-vmm built these tables (boot.h, kBootFlagKernelTables) in the
        // early region: what follows them is still free for early use.
        if (boot.kernel_tables_end < img_end || boot.kernel_tables_end > early_limit) {
            klog::error("kiln: the monitor's page tables end at 0x%lx, outside 0x%lx-0x%lx",
                        boot.kernel_tables_end, img_end, early_limit);
            return Error(Errno::kEINVAL);
        }
        early_next = boot.kernel_tables_end;
    } else {
        TRY(as.create(early_alloc));
        TRY(map_image(as));
        TRY(map_direct(as, boot, img, img_end));
        arch::switch_to(as);
    }

    PhysRange ram[BootInfo::kMaxRam];
    for (int i = 0; i < boot.ram_count; i++) ram[i] = PhysRange{boot.ram[i].addr, boot.ram[i].size};
    // The initrd modules stay reserved: the root file system reads its
    // files' contents from them in place.
    PhysRange reserved[2 + BootInfo::kMaxModules] = {
        {0, abi::kLowReservedEnd},
        {img, early_limit - img},
    };
    size_t nreserved = 2;
    for (int i = 0; i < boot.module_count; i++) {
        reserved[nreserved++] = PhysRange{boot.modules[i].addr, boot.modules[i].size};
    }
    TRY(frame_allocator.init(Span<const PhysRange>(ram, size_t(boot.ram_count)),
                             Span<const PhysRange>(reserved, nreserved), arch::kDirectMapBase));
    heap_init(PageSource{heap_pages, heap_free_pages, nullptr}, [](void* p) {
        klog::error("kiln: heap_free of a pointer the heap did not give out: %p", p);
    });
    // From now on page-table pages come from the frame allocator.
    as.set_table_allocator(frame_alloc);
    as.set_table_free(frame_free);
    klog::info("kiln: memory: %lu KiB free of %lu KiB", frame_allocator.free_pages() * 4,
               frame_allocator.total_pages() * 4);
    return {};
}

}  // namespace kiln::mm
