// The application's pages in the lower half: map one 4 KiB page, and visit,
// change or clear a range, skipping absent tables whole. TLB flushes are
// batched per operation: page by page up to kTlbFlushPagesMax, otherwise
// (or when table pages were freed) one full flush.
#include "arch/x86_64/arch.h"
#include "arch/x86_64/paging.h"

namespace kiln::arch {
namespace {

uint64_t* table(uint64_t pa) {
    return static_cast<uint64_t*>(phys_to_virt(pa));
}

uint64_t user_pte_bits(uint64_t flags) {
    if (flags & kPteKept) return kPteKept;
    return kPtePresent | kPteUser | (flags & (kPteWrite | kPteNoExec)) | pte_ad_bits(flags);
}

class TlbBatch {
public:
    void add(uint64_t va) {
        if (n_ < kTlbFlushPagesMax) {
            va_[n_] = va;
        }
        n_++;
    }
    void flush_all_later() { all_ = true; }
    void finish() {
        if (all_ || n_ > kTlbFlushPagesMax) {
            flush_tlb_all();
        } else {
            for (unsigned i = 0; i < n_; i++) flush_tlb_page(va_[i]);
        }
    }

private:
    uint64_t va_[kTlbFlushPagesMax];
    unsigned n_ = 0;
    bool all_ = false;
};

bool table_empty(const uint64_t* t) {
    for (int i = 0; i < 512; i++) {
        if (t[i] != 0) return false;
    }
    return true;
}

}  // namespace

struct UserRangeWalk {
    enum class Kind { kVisit, kProtect, kUnmap };
    AddressSpace& as;
    Kind kind;
    uint64_t bits;  // kProtect: the new PTE flag bits
    UserPageFn fn;
    void* ctx;
    TlbBatch tlb;

    void leaf(uint64_t& pte, uint64_t va) {
        if (!pte_has_frame(pte)) return;
        switch (kind) {
            case Kind::kVisit:
                fn(ctx, va, pte);
                break;
            case Kind::kProtect: {
                const uint64_t fresh = (pte & kPteAddrMask) | bits;
                if (fresh != pte) {
                    if (pte & kPtePresent) tlb.add(va);
                    pte = fresh;
                }
                break;
            }
            case Kind::kUnmap: {
                const uint64_t old = pte;
                pte = 0;
                if (old & kPtePresent) tlb.add(va);
                fn(ctx, va, old);
                break;
            }
        }
    }

    // [start, end) lies within the 512 entries of t, which cover from base.
    void range(uint64_t* t, int level, uint64_t base, uint64_t start, uint64_t end) {
        const unsigned shift = 12 + 9 * (level - 1);
        const uint64_t span = 1ull << shift;
        const unsigned first = (start - base) >> shift;
        const unsigned last = (end - 1 - base) >> shift;
        for (unsigned idx = first; idx <= last; idx++) {
            const uint64_t entry_base = base + idx * span;
            const uint64_t s = start > entry_base ? start : entry_base;
            const uint64_t e = end < entry_base + span ? end : entry_base + span;
            if (level == 1) {
                leaf(t[idx], entry_base);
                continue;
            }
            if (!(t[idx] & kPtePresent)) continue;
            uint64_t child_pa = t[idx] & kPteAddrMask;
            uint64_t* child = table(child_pa);
            range(child, level - 1, entry_base, s, e);
            if (kind == Kind::kUnmap && as.free_ != nullptr && table_empty(child)) {
                t[idx] = 0;
                if (level == 4) table(as.pml4_ + 0x1000)[idx] = 0;  // the PVM twin
                // Paging-structure caches may hold the table: flush all
                // before anything can reuse the page (the caller returns to
                // the app only after finish()).
                tlb.flush_all_later();
                as.free_(child_pa);
            }
        }
    }

    void run(uint64_t start, uint64_t end) {
        if (end > kUserHalfEnd) end = kUserHalfEnd;
        if (start >= end) return;
        range(table(as.pml4_), 4, 0, start, end);
        tlb.finish();
    }
};

Result<void> AddressSpace::map_user(uint64_t va, uint64_t pa, uint64_t flags) {
    if (va >= kUserHalfEnd || (va & 0xfff)) return Error(Errno::kEINVAL);
    uint64_t* pt = TRY(walk(va, 1));
    uint64_t& pte = pt[(va >> 12) & 511];
    if (pte_has_frame(pte)) return Error(Errno::kEEXIST);
    pte = pa | user_pte_bits(flags);
    return {};
}

uint64_t AddressSpace::user_pte(uint64_t va) {
    if (va >= kUserHalfEnd) return 0;
    uint64_t* t = table(pml4_);
    for (int level = 4; level > 1; level--) {
        const uint64_t e = t[(va >> (12 + 9 * (level - 1))) & 511];
        if (!(e & kPtePresent)) return 0;
        t = table(e & kPteAddrMask);
    }
    return t[(va >> 12) & 511];
}

void AddressSpace::protect_user(uint64_t start, uint64_t end, uint64_t flags) {
    UserRangeWalk w{*this, UserRangeWalk::Kind::kProtect, user_pte_bits(flags), nullptr, nullptr, {}};
    w.run(start, end);
}

void AddressSpace::visit_user(uint64_t start, uint64_t end, UserPageFn fn, void* ctx) {
    UserRangeWalk w{*this, UserRangeWalk::Kind::kVisit, 0, fn, ctx, {}};
    w.run(start, end);
}

void AddressSpace::unmap_user(uint64_t start, uint64_t end, UserPageFn fn, void* ctx) {
    UserRangeWalk w{*this, UserRangeWalk::Kind::kUnmap, 0, fn, ctx, {}};
    w.run(start, end);
}

}  // namespace kiln::arch
