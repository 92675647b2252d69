// The mappings of a user address space: a sorted array of non-overlapping
// VMAs, found by binary search. An array is the simplest structure that is
// fast for the sizes real programs reach (tens to a few thousand mappings);
// inserting shifts the tail, which stays cheap below Linux's max_map_count.
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "kiln/result.h"
#include "mm/vm_backend.h"

namespace kiln::fs {
class Inode;
}

namespace kiln::mm {

inline constexpr uint64_t kUserPage = 4096;

enum VmaFlags : uint8_t {
    kVmaShared = 1 << 0,     // MAP_SHARED (private in effect: one process)
    kVmaGrowsDown = 1 << 1,  // MAP_GROWSDOWN: a stack that grows on faults below it
    kVmaNoReserve = 1 << 2,  // MAP_NORESERVE
    kVmaHeap = 1 << 3,       // the brk heap
};

struct Vma {
    uint64_t start;  // page aligned
    uint64_t end;    // page aligned, > start
    fs::Inode* file;       // retained once per VMA; null for anonymous memory
    uint64_t file_offset;  // the file offset of `start`
    uint64_t file_end;     // file bytes at or past this offset read as zeroes
    uint8_t prot;          // kProt*
    uint8_t flags;         // VmaFlags

    uint64_t offset_of(uint64_t va) const { return file_offset + (va - start); }
};

class VmaList {
public:
    explicit VmaList(VmBackend& backend) : backend_(backend) {}
    ~VmaList();
    VmaList(const VmaList&) = delete;
    VmaList& operator=(const VmaList&) = delete;

    size_t count() const { return count_; }
    Vma& operator[](size_t i) { return v_[i]; }
    const Vma& operator[](size_t i) const { return v_[i]; }

    // The index of the first VMA ending above addr (count() when none).
    size_t first_ending_above(uint64_t addr) const;
    // The VMA containing addr, or null.
    Vma* find(uint64_t addr);
    // True when no VMA intersects [start, end).
    bool is_free(uint64_t start, uint64_t end) const;

    // Room for n VMAs in all, so that later inserts cannot fail. ENOMEM.
    Result<void> reserve(size_t n);
    // Inserts at index i (the caller keeps the order); needs reserved room.
    void insert_at(size_t i, const Vma& vma);
    void erase_at(size_t i);

private:
    VmBackend& backend_;
    Vma* v_ = nullptr;
    size_t count_ = 0;
    size_t capacity_ = 0;
};

}  // namespace kiln::mm
