// The application's address space (the lower half): its mappings (VMAs),
// demand paging, and the Linux semantics of mmap, munmap, mprotect, brk,
// mremap and madvise. Pages are filled on first touch: zeroes for anonymous
// memory, the file's bytes for private file mappings (fs/inode.h). Frames,
// bookkeeping and page tables come from a VmBackend (mm/vm_backend.h): the
// kernel's drives arch::AddressSpace (arch/x86_64/paging.h), host tests fake it.
//
// Every touched page owns its frame (no sharing, no copy-on-write: one
// process, no fork yet). Not thread-safe: callers serialise.
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "kiln/result.h"
#include "mm/vm_backend.h"
#include "mm/vma.h"

namespace kiln::fs {
class Inode;
}

namespace kiln::mm {

// Linux PROT_* values (<asm-generic/mman-common.h>).
inline constexpr int kProtRead = 1, kProtWrite = 2, kProtExec = 4;

enum class Access : uint8_t { kRead, kWrite, kExec };

class UserAddressSpace {
public:
    // Linux's vm.mmap_min_addr default: nothing is mapped below it.
    static constexpr uint64_t kMinAddr = 0x10000;
    // Linux's TASK_SIZE on x86-64 (4-level paging): the end of user space.
    static constexpr uint64_t kTop = 0x00007ffffffff000ull;
    // Top-down placement starts below this, leaving room for the stack above.
    static constexpr uint64_t kDefaultMmapTop = 0x00007f0000000000ull;
    // Linux's vm.max_map_count default.
    static constexpr size_t kMaxMapCount = 65530;
    // Linux's stack_guard_gap: kept free below a MAP_GROWSDOWN mapping.
    static constexpr uint64_t kStackGuardGap = 256 * kUserPage;
    // RLIMIT_STACK's usual default: how far a MAP_GROWSDOWN mapping may grow.
    static constexpr uint64_t kDefaultStackLimit = 8ull << 20;

    // An empty address space; ENOMEM when its bookkeeping cannot be had.
    // The first form uses the kernel's page tables and frames.
    static Result<UserAddressSpace*> create();
    static Result<UserAddressSpace*> create(VmBackend& backend);
    // Unmaps everything, frees every frame, and the object itself.
    static void destroy(UserAddressSpace* vm);

    // mmap(2): returns the mapping's address. `file` (retained while mapped)
    // is null for MAP_ANONYMOUS. Honours MAP_FIXED, MAP_FIXED_NOREPLACE,
    // MAP_PRIVATE/MAP_SHARED, MAP_NORESERVE, MAP_GROWSDOWN, hints.
    Result<uint64_t> mmap(uint64_t addr, uint64_t len, int prot, int flags, fs::Inode* file,
                          uint64_t offset);
    Result<void> munmap(uint64_t addr, uint64_t len);
    Result<void> mprotect(uint64_t addr, uint64_t len, int prot);
    // mremap(2) with MREMAP_MAYMOVE / MREMAP_FIXED; returns the new address.
    Result<uint64_t> mremap(uint64_t old_addr, uint64_t old_len, uint64_t new_len, int flags,
                            uint64_t new_addr);
    // madvise(2): MADV_DONTNEED (and MADV_FREE) drop pages; other advice is
    // accepted and ignored.
    Result<void> madvise(uint64_t addr, uint64_t len, int advice);
    // EINVAL/ENOMEM checks of msync(2); nothing to write back.
    Result<void> msync(uint64_t addr, uint64_t len, int flags);
    // mincore(2) for `pages` pages at addr (page aligned): 1 per resident page.
    Result<void> mincore(uint64_t addr, uint64_t pages, uint8_t* vec);

    // brk(2): moves the break; 0 or an invalid value returns the current one,
    // and so does a grow that cannot be had.
    uint64_t brk(uint64_t new_brk);
    // Where the heap starts (the loader sets it after the image; rounded up
    // to a page).
    void set_brk_base(uint64_t base);

    // A page fault at addr: fills the page when a mapping allows the access.
    // EFAULT when none does (the fault becomes SIGSEGV); ENOMEM when no frame
    // could be had (logged; the fault is fatal).
    Result<void> handle_fault(uint64_t addr, Access access);
    // Makes [addr, addr+len) present for a kernel copy (linux/user.h):
    // EFAULT when any part is unmapped or forbids the access.
    Result<void> prepare(uint64_t addr, uint64_t len, Access access);

    // The file mapped at addr, retained (release() it), with the offset in
    // that file of addr's byte: crash reports name the code's function.
    // ENOENT for anonymous memory or no mapping.
    Result<fs::Inode*> file_at(uint64_t addr, uint64_t* file_offset);

    // Top-down placement starts below `top` (the loader may move it under
    // the stack it chooses).
    void set_mmap_top(uint64_t top) { mmap_top_ = top; }
    void set_stack_limit(uint64_t bytes) { stack_limit_ = bytes; }

    const VmaList& vmas() const { return vmas_; }
    // Pages that hold a frame (for tests and /proc).
    uint64_t resident_pages() const { return resident_; }

private:
    explicit UserAddressSpace(VmBackend& backend) : backend_(backend), vmas_(backend) {}
    ~UserAddressSpace() = default;

    // Anything mapped in [start, end) goes away (VMAs split at the edges,
    // frames freed). Needs room for one more VMA (reserve_for(1)).
    void remove_range(uint64_t start, uint64_t end);
    // Splits the VMA at index i at addr (inside it); needs reserved room.
    void split(size_t i, uint64_t addr);
    // Puts vma into free space and merges it with compatible neighbours.
    void insert(const Vma& vma);
    void merge_around(size_t i);
    bool can_merge(const Vma& a, const Vma& b) const;
    // Room for `extra` more VMAs, of which `growth` may remain: ENOMEM when
    // that passes kMaxMapCount or memory is short.
    Result<void> reserve_for(size_t extra, size_t growth);
    // 1 when [start, end) lies strictly inside one VMA (removing it splits).
    size_t splits_inside(uint64_t start, uint64_t end) const;
    // Drops the pages of [start, end) (munmap, DONTNEED): frames go back.
    void drop_pages(uint64_t start, uint64_t end);
    void release_file(Vma& vma);

    Result<uint64_t> place(uint64_t hint, uint64_t len);
    Result<uint64_t> find_free_below(uint64_t top, uint64_t len) const;
    uint64_t gap_start(const Vma& v) const;
    bool grow_stack(uint64_t addr);
    Result<void> fill(const Vma& vma, uint64_t page, uint8_t* bytes);
    Result<void> move_pages(uint64_t from, uint64_t to, uint64_t len);

    VmBackend& backend_;
    VmaList vmas_;
    uint64_t resident_ = 0;
    uint64_t mmap_top_ = kDefaultMmapTop;
    uint64_t stack_limit_ = kDefaultStackLimit;
    uint64_t brk_base_ = 0;
    uint64_t brk_ = 0;
};

}  // namespace kiln::mm
