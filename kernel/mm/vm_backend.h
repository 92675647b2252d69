// What a user address space (mm/vm.h) needs from below: frames, bytes for
// its bookkeeping, and the lower half's page tables. The kernel implements it
// with the frame allocator and arch::AddressSpace (vm_kernel.cpp); host tests
// implement it with maps, so the VMA logic runs on the host.
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "kiln/result.h"

namespace kiln::mm {

// One user page as the page tables hold it. frame 0: nothing there. A frame
// with prot 0 is a page kept for a PROT_NONE range: it holds its bytes but
// is not accessible (mprotect can make it accessible again).
struct UserPte {
    uint64_t frame;
    int prot;  // kProtRead | kProtWrite | kProtExec
};

class VmBackend {
public:
    // A frame for a user page, or 0 when memory is exhausted.
    virtual uint64_t alloc_frame() = 0;
    virtual void free_frame(uint64_t frame) = 0;
    // The frame's 4 KiB as the kernel reaches them.
    virtual uint8_t* frame_bytes(uint64_t frame) = 0;

    // Bookkeeping memory (the VMA array); nullptr when exhausted.
    virtual void* alloc_meta(size_t bytes) = 0;
    virtual void free_meta(void* p) = 0;

    // Enters a frame at va, whose page must hold none. ENOMEM when a
    // page-table page cannot be had.
    virtual Result<void> map(uint64_t va, uint64_t frame, int prot) = 0;
    virtual UserPte lookup(uint64_t va) = 0;
    // Sets the protection of every page in [start, end) that holds a frame
    // (TLB flushed as needed).
    virtual void protect(uint64_t start, uint64_t end, int prot) = 0;
    // Calls fn for every page in [start, end) that holds a frame.
    using FrameFn = void (*)(void* ctx, uint64_t va, uint64_t frame);
    virtual void visit(uint64_t start, uint64_t end, FrameFn fn, void* ctx) = 0;
    // Empties [start, end), handing each frame that was there to fn (which
    // frees or keeps it), flushing the TLB, and freeing page-table pages that
    // became empty.
    virtual void unmap(uint64_t start, uint64_t end, FrameFn fn, void* ctx) = 0;

    // A page fault could not get memory: say so where a person will see it.
    virtual void report_out_of_memory(uint64_t va) = 0;

protected:
    ~VmBackend() = default;
};

}  // namespace kiln::mm
