// The kernel's VmBackend: frames from the frame allocator, bookkeeping on
// the heap, and the lower half of arch::kernel_address_space() (one process).
#include "arch/x86_64/paging.h"
#include "klog.h"
#include "mm/memory.h"
#include "mm/vm.h"

namespace kiln::mm {
namespace {

uint64_t pte_flags(int prot) {
    if (prot == 0) return arch::kPteKept;
    return ((prot & kProtWrite) ? arch::kPteWrite : 0) |
           ((prot & kProtExec) ? 0 : arch::kPteNoExec);
}

struct FrameFnAdapter {
    VmBackend::FrameFn fn;
    void* ctx;
    static void call(void* self, uint64_t va, uint64_t pte) {
        auto* a = static_cast<FrameFnAdapter*>(self);
        a->fn(a->ctx, va, pte & arch::kPteAddrMask);
    }
};

class KernelVmBackend final : public VmBackend {
public:
    uint64_t alloc_frame() override {
        auto r = frames().alloc(1);
        return r.ok() ? *r : 0;
    }
    void free_frame(uint64_t frame) override {
        if (!frames().free(frame, 1).ok()) klog::error("kiln: vm freed frame %#lx twice", frame);
    }
    uint8_t* frame_bytes(uint64_t frame) override {
        return static_cast<uint8_t*>(arch::phys_to_virt(frame));
    }
    void* alloc_meta(size_t bytes) override { return heap_alloc(bytes); }
    void free_meta(void* p) override { heap_free(p); }

    Result<void> map(uint64_t va, uint64_t frame, int prot) override {
        return arch::kernel_address_space().map_user(va, frame, pte_flags(prot));
    }
    UserPte lookup(uint64_t va) override {
        const uint64_t pte = arch::kernel_address_space().user_pte(va);
        if (!arch::pte_has_frame(pte)) return UserPte{0, 0};
        int prot = 0;
        if (pte & arch::kPtePresent) {
            prot = kProtRead | ((pte & arch::kPteWrite) ? kProtWrite : 0) |
                   ((pte & arch::kPteNoExec) ? 0 : kProtExec);
        }
        return UserPte{pte & arch::kPteAddrMask, prot};
    }
    void protect(uint64_t start, uint64_t end, int prot) override {
        arch::kernel_address_space().protect_user(start, end, pte_flags(prot));
    }
    void visit(uint64_t start, uint64_t end, FrameFn fn, void* ctx) override {
        FrameFnAdapter a{fn, ctx};
        arch::kernel_address_space().visit_user(start, end, FrameFnAdapter::call, &a);
    }
    void unmap(uint64_t start, uint64_t end, FrameFn fn, void* ctx) override {
        FrameFnAdapter a{fn, ctx};
        arch::kernel_address_space().unmap_user(start, end, FrameFnAdapter::call, &a);
    }
    void report_out_of_memory(uint64_t va) override {
        klog::error("kiln: out of memory: no page for the application's fault at %#lx (%lu KiB free)",
                    va, frames().free_pages() * 4);
    }
};

constinit KernelVmBackend kernel_backend;

}  // namespace

Result<UserAddressSpace*> UserAddressSpace::create() {
    return create(kernel_backend);
}

}  // namespace kiln::mm
