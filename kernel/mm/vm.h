// The application's address space (the lower half): its mappings (VMAs),
// demand paging, and the Linux semantics of mmap, munmap, mprotect and brk.
// Pages are filled on first touch: zeroes for anonymous memory, the file's
// bytes for private file mappings (fs/inode.h). Page-table changes go
// through arch::AddressSpace (arch/x86_64/paging.h).
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "kiln/result.h"

namespace kiln::fs {
class Inode;
}

namespace kiln::mm {

// Linux PROT_* and MAP_* values (<asm-generic/mman-common.h>).
inline constexpr int kProtRead = 1, kProtWrite = 2, kProtExec = 4;

enum class Access : uint8_t { kRead, kWrite, kExec };

class UserAddressSpace {
public:
    // An empty address space; ENOMEM when its bookkeeping cannot be had.
    static Result<UserAddressSpace*> create();

    // mmap(2): returns the mapping's address. `file` (retained while mapped)
    // is null for MAP_ANONYMOUS. Honours MAP_FIXED, MAP_FIXED_NOREPLACE,
    // MAP_PRIVATE/MAP_SHARED, MAP_NORESERVE, MAP_GROWSDOWN, hints.
    Result<uint64_t> mmap(uint64_t addr, uint64_t len, int prot, int flags, fs::Inode* file,
                          uint64_t offset);
    Result<void> munmap(uint64_t addr, uint64_t len);
    Result<void> mprotect(uint64_t addr, uint64_t len, int prot);
    // brk(2): moves the break; 0 or an invalid value returns the current one.
    uint64_t brk(uint64_t new_brk);
    // Where the heap starts (the loader sets it after the image).
    void set_brk_base(uint64_t base);

    // A page fault at addr: fills the page when a mapping allows the access.
    // EFAULT when none does (the fault becomes SIGSEGV).
    Result<void> handle_fault(uint64_t addr, Access access);
    // Makes [addr, addr+len) present for a kernel copy (linux/user.h):
    // EFAULT when any part is unmapped or forbids the access.
    Result<void> prepare(uint64_t addr, uint64_t len, Access access);
};

}  // namespace kiln::mm
