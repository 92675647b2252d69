// Demand paging: a fault in a mapping that allows the access gets a frame,
// filled with zeroes or the file's bytes, mapped with the mapping's
// protection. MAP_GROWSDOWN mappings grow down to a fault below them.
#include "fs/inode.h"
#include "mm/vm.h"

namespace kiln::mm {
namespace {

constexpr uint64_t kPageMask = kUserPage - 1;

// x86 pages without PKU are readable whenever they are accessible at all.
bool permits(int prot, Access access) {
    switch (access) {
        case Access::kRead:
            return prot != 0;
        case Access::kWrite:
            return prot & kProtWrite;
        case Access::kExec:
            return prot & kProtExec;
    }
    return false;
}

}  // namespace

bool UserAddressSpace::grow_stack(uint64_t addr) {
    size_t i = vmas_.first_ending_above(addr);
    if (i == vmas_.count()) return false;
    Vma& v = vmas_[i];
    if (!(v.flags & kVmaGrowsDown) || v.file != nullptr || v.start <= addr) return false;
    const uint64_t new_start = addr & ~kPageMask;
    if (new_start < kMinAddr || v.end - new_start > stack_limit_) return false;
    if (i > 0) {
        const Vma& prev = vmas_[i - 1];
        if (prev.end > new_start) return false;
        // Linux keeps stack_guard_gap free above an accessible mapping.
        if (prev.prot != 0 && new_start - prev.end < kStackGuardGap) return false;
    }
    v.start = new_start;
    return true;
}

Result<void> UserAddressSpace::fill(const Vma& vma, uint64_t page, uint8_t* bytes) {
    size_t got = 0;
    if (vma.file != nullptr) {
        const uint64_t off = vma.offset_of(page);
        if (off < vma.file_end) {
            const size_t want = vma.file_end - off < kUserPage ? vma.file_end - off : kUserPage;
            while (got < want) {
                auto r = vma.file->read_at(off + got, bytes + got, want - got);
                if (!r.ok()) return Error(Errno::kEFAULT);
                if (*r == 0) break;  // end of file: the rest reads as zeroes
                got += *r;
            }
        }
    }
    __builtin_memset(bytes + got, 0, kUserPage - got);
    return {};
}

Result<void> UserAddressSpace::handle_fault(uint64_t addr, Access access) {
    if (addr >= kTop) return Error(Errno::kEFAULT);
    const uint64_t page = addr & ~kPageMask;
    Vma* vma = vmas_.find(addr);
    if (vma == nullptr) {
        if (!grow_stack(addr)) return Error(Errno::kEFAULT);
        vma = vmas_.find(addr);
    }
    if (!permits(vma->prot, access)) return Error(Errno::kEFAULT);

    if (backend_.lookup(page).frame != 0) {
        // Present already: a stale TLB entry from before a protection change.
        backend_.protect(page, page + kUserPage, vma->prot);
        return {};
    }
    const uint64_t frame = backend_.alloc_frame();
    if (frame == 0) {
        backend_.report_out_of_memory(addr);
        return Error(Errno::kENOMEM);
    }
    auto filled = fill(*vma, page, backend_.frame_bytes(frame));
    if (!filled.ok()) {
        backend_.free_frame(frame);
        return filled;
    }
    if (!backend_.map(page, frame, vma->prot).ok()) {
        backend_.free_frame(frame);
        backend_.report_out_of_memory(addr);
        return Error(Errno::kENOMEM);
    }
    resident_++;
    return {};
}

Result<void> UserAddressSpace::prepare(uint64_t addr, uint64_t len, Access access) {
    if (len == 0) return {};
    if (addr >= kTop || len > kTop - addr) return Error(Errno::kEFAULT);
    const uint64_t end = addr + len;
    for (uint64_t page = addr & ~kPageMask; page < end; page += kUserPage) {
        const UserPte pte = backend_.lookup(page);
        if (pte.frame != 0 && permits(pte.prot, access)) continue;
        TRY(handle_fault(page, access));
    }
    return {};
}

}  // namespace kiln::mm

namespace kiln::mm {

Result<fs::Inode*> UserAddressSpace::file_at(uint64_t addr, uint64_t* file_offset) {
    Vma* vma = vmas_.find(addr);
    if (vma == nullptr || vma->file == nullptr) return Error(Errno::kENOENT);
    vma->file->retain();
    *file_offset = vma->offset_of(addr);
    return vma->file;
}

}  // namespace kiln::mm
