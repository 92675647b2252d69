// x86-64 4-level page tables (Intel SDM vol. 3A, ch. 4.5) for the kernel's
// address space: the image with per-section permissions (W^X), a direct map
// of RAM without execute, and an MMIO window mapped uncached on demand.
// The lower half holds the application's pages (one process), managed by
// mm/vm.h through the *_user operations below: U/S=1 at every level.
//
// On kvm-pvm every level carries U/S=1, kernel pages included, and the PML4
// has a twin at +4 KiB (PVM.md, recipe step 1) that kvm-pvm uses while the
// app runs. The twin holds only the lower half's entries: the kernel's (upper
// half) go into root() alone, so that the app cannot reach kernel pages that
// are U/S=1 there. On ordinary x86 the twin is unused and kernel pages have
// U/S=0.
#pragma once

#include <stdint.h>

#include "kiln/result.h"

namespace kiln::arch {

inline constexpr uint64_t kDirectMapBase = 0xffff888000000000ull;
inline constexpr uint64_t kMmioWindowBase = 0xffffc90000000000ull;
inline constexpr uint64_t kMmioWindowSize = 1ull << 30;

inline constexpr uint64_t kPteWrite = 1ull << 1;
inline constexpr uint64_t kPteNoExec = 1ull << 63;
inline constexpr uint64_t kPteUser = 1ull << 2;  // an application page (lower half)
inline constexpr uint64_t kPteUncached = (1ull << 3) | (1ull << 4);  // PWT | PCD
inline constexpr uint64_t kPtePresent = 1;
// Accessed and dirty are set when an entry is made, not left to the MMU:
// under shadow paging (kvm-pvm) a read of a page whose PTE is not yet dirty
// is mapped read-only so that the first write can set D, a second fault of
// ~2.5 us; a page's first touch then costs one fault, not two.
inline constexpr uint64_t kPteAccessed = 1ull << 5;
inline constexpr uint64_t kPteDirty = 1ull << 6;
// The A/D bits a new leaf entry with these flags starts with.
inline constexpr uint64_t pte_ad_bits(uint64_t flags) {
    return kPteAccessed | ((flags & kPteWrite) ? kPteDirty : 0);
}
inline constexpr uint64_t kPteAddrMask = 0x000ffffffffff000ull;
// Software bit (the MMU ignores bits 9-11): a non-present user PTE that still
// owns its frame, for a page of a PROT_NONE range (mprotect may restore it).
inline constexpr uint64_t kPteKept = 1ull << 9;

inline constexpr uint64_t kUserHalfEnd = 0x0000800000000000ull;
// Beyond this many pages one operation flushes the whole TLB rather than
// page by page (each flush is a ~7 us hypercall on kvm-pvm; PVM.md).
inline constexpr unsigned kTlbFlushPagesMax = 16;

// A user PTE holds a frame when it is present or kept.
inline bool pte_has_frame(uint64_t pte) {
    return pte & (kPtePresent | kPteKept);
}

// Called for each user page that holds a frame, with its PTE.
using UserPageFn = void (*)(void* ctx, uint64_t va, uint64_t pte);
using TablePageFree = void (*)(uint64_t pa);

// Page-table pages come from here: a bump allocator during boot, the frame
// allocator afterwards. Returns the physical address of `pages` contiguous
// zeroed-or-not pages aligned to `align_pages` pages, or 0.
using TablePageAlloc = uint64_t (*)(uint64_t pages, uint64_t align_pages);

class AddressSpace {
public:
    // Allocates the PML4 pair.
    Result<void> create(TablePageAlloc alloc);
    // Maps [va, va+size) to [pa, pa+size) with 4 KiB pages; `flags` from
    // kPte*. ENOMEM when a table page cannot be had; EEXIST on a remap.
    Result<void> map(uint64_t va, uint64_t pa, uint64_t size, uint64_t flags);
    // Same with 2 MiB pages (va, pa and size 2 MiB aligned).
    Result<void> map_large(uint64_t va, uint64_t pa, uint64_t size, uint64_t flags);
    uint64_t root() const { return pml4_; }
    // Takes over tables that already exist (the monitor's), PML4 pair at root.
    void adopt(uint64_t root) { pml4_ = root; }
    // Where later table pages come from (the boot allocator is done).
    void set_table_allocator(TablePageAlloc alloc) { alloc_ = alloc; }
    // Where emptied user table pages go (none freed while unset).
    void set_table_free(TablePageFree free) { free_ = free; }

    // User pages, 4 KiB each, below kUserHalfEnd. `flags`: kPteWrite and
    // kPteNoExec for an accessible page (U/S=1), or kPteKept alone for one
    // that keeps its frame without access. map_user needs an empty PTE
    // (EEXIST otherwise; ENOMEM without a table page); a fresh PTE needs no
    // TLB flush.
    Result<void> map_user(uint64_t va, uint64_t pa, uint64_t flags);
    // The PTE at va, 0 when none.
    uint64_t user_pte(uint64_t va);
    // Sets the flags of every page in [start, end) that holds a frame.
    void protect_user(uint64_t start, uint64_t end, uint64_t flags);
    void visit_user(uint64_t start, uint64_t end, UserPageFn fn, void* ctx);
    // Clears [start, end), handing each page's old PTE to fn, flushes the
    // TLB and frees table pages left empty (the lower half only).
    void unmap_user(uint64_t start, uint64_t end, UserPageFn fn, void* ctx);

private:
    friend struct UserRangeWalk;
    Result<uint64_t*> walk(uint64_t va, int leaf_level);
    uint64_t pml4_ = 0;
    TablePageAlloc alloc_ = nullptr;
    TablePageFree free_ = nullptr;
};

// Physical memory as the kernel sees it: the boot identity map until
// switch_to(), the direct map afterwards.
void* phys_to_virt(uint64_t pa);
uint64_t virt_to_phys_image(const void* kernel_image_va);
// The physical address of a kernel-image or direct-map address, or ~0 for
// any other address. Both regions are physically contiguous.
uint64_t kernel_virt_to_phys(const void* va);

// The monitor built the kernel's tables (abi::kBootFlagKernelTables) and CR3
// holds them: kernel_address_space() takes them over (its PML4 pair sits at
// the first 8 KiB boundary after the image) and phys_to_virt moves to the
// direct map. Call before anything reads physical memory.
void adopt_kernel_tables();
// Whether adopt_kernel_tables() ran.
bool kernel_tables_adopted();

// Loads the address space and moves phys_to_virt to the direct map.
void switch_to(AddressSpace& as);

// Maps [pa, pa+size) uncached into the MMIO window (needs switch_to first).
Result<volatile uint8_t*> map_mmio(uint64_t pa, uint64_t size);

AddressSpace& kernel_address_space();

// Threads' kernel stacks (sched/thread.cpp): slots of a guard page, never
// mapped, and the stack above it, in a window of their own.
inline constexpr uint64_t kKernelStackWindowBase = kMmioWindowBase + kMmioWindowSize;
inline constexpr uint64_t kKernelStackWindowSize = 1ull << 30;

}  // namespace kiln::arch
