#include "arch/x86_64/paging.h"

#include "abi/boot.h"
#include "arch/x86_64/arch.h"

namespace kiln::arch {
namespace {

constexpr uint64_t kPresent = 1;
constexpr uint64_t kUser = 1ull << 2;
constexpr uint64_t kLarge = 1ull << 7;
constexpr uint64_t kAddrMask = 0x000ffffffffff000ull;

uint64_t phys_offset = 0;  // 0: boot identity map; then kDirectMapBase
AddressSpace kernel_as;
uint64_t mmio_next = kMmioWindowBase;

// kvm-pvm runs the kernel at hardware CPL3: its pages need U/S=1.
uint64_t user_bit() {
    return pvm() ? kUser : 0;
}

uint64_t* table(uint64_t pa) {
    return static_cast<uint64_t*>(phys_to_virt(pa));
}

}  // namespace

void* phys_to_virt(uint64_t pa) {
    return reinterpret_cast<void*>(pa + phys_offset);
}

uint64_t virt_to_phys_image(const void* va) {
    return reinterpret_cast<uint64_t>(va) - abi::kKernelVirtBase;
}

uint64_t kernel_virt_to_phys(const void* p) {
    const uint64_t va = reinterpret_cast<uint64_t>(p);
    if (va >= abi::kKernelVirtBase) return va - abi::kKernelVirtBase;
    if (phys_offset == kDirectMapBase && va >= kDirectMapBase && va < kMmioWindowBase) {
        return va - kDirectMapBase;
    }
    return ~0ull;
}

AddressSpace& kernel_address_space() {
    return kernel_as;
}

Result<void> AddressSpace::create(TablePageAlloc alloc) {
    alloc_ = alloc;
    pml4_ = alloc(2, 2);  // the PML4 and its twin, 8 KiB aligned
    if (!pml4_) return Error(Errno::kENOMEM);
    uint64_t* t = table(pml4_);
    for (int i = 0; i < 1024; i++) t[i] = 0;
    return {};
}

Result<uint64_t*> AddressSpace::walk(uint64_t va, int leaf_level) {
    uint64_t* t = table(pml4_);
    for (int level = 4; level > leaf_level; level--) {
        unsigned idx = (va >> (12 + 9 * (level - 1))) & 511;
        uint64_t e = t[idx];
        if (!(e & kPresent)) {
            uint64_t pa = alloc_(1, 1);
            if (!pa) return Error(Errno::kENOMEM);
            uint64_t* fresh = table(pa);
            for (int i = 0; i < 512; i++) fresh[i] = 0;
            // Tables above application pages must allow user access too.
            e = pa | kPresent | kPteWrite | kPteAccessed | (va < kUserHalfEnd ? kUser : user_bit());
            t[idx] = e;
            // The PVM twin gets the lower half's entries only (paging.h).
            if (level == 4 && va < kUserHalfEnd) table(pml4_ + 0x1000)[idx] = e;
        } else if (e & kLarge) {
            return Error(Errno::kEEXIST);
        }
        t = table(e & kAddrMask);
    }
    return t;
}

Result<void> AddressSpace::map(uint64_t va, uint64_t pa, uint64_t size, uint64_t flags) {
    for (uint64_t off = 0; off < size; off += 0x1000) {
        uint64_t* pt = TRY(walk(va + off, 1));
        unsigned idx = ((va + off) >> 12) & 511;
        if (pt[idx] & kPresent) return Error(Errno::kEEXIST);
        pt[idx] = (pa + off) | flags | pte_ad_bits(flags) | kPresent | user_bit();
    }
    return {};
}

Result<void> AddressSpace::map_large(uint64_t va, uint64_t pa, uint64_t size, uint64_t flags) {
    constexpr uint64_t k2M = 2ull << 20;
    if ((va | pa | size) & (k2M - 1)) return Error(Errno::kEINVAL);
    for (uint64_t off = 0; off < size; off += k2M) {
        uint64_t* pd = TRY(walk(va + off, 2));
        unsigned idx = ((va + off) >> 21) & 511;
        if (pd[idx] & kPresent) return Error(Errno::kEEXIST);
        pd[idx] = (pa + off) | flags | pte_ad_bits(flags) | kPresent | kLarge | user_bit();
    }
    return {};
}

extern "C" char __kernel_end[];

void adopt_kernel_tables() {
    const uint64_t end = virt_to_phys_image(__kernel_end);
    kernel_as.adopt((end + 0x1fff) & ~0x1fffull);
    phys_offset = kDirectMapBase;
}

bool kernel_tables_adopted() {
    return phys_offset == kDirectMapBase;
}

void switch_to(AddressSpace& as) {
    load_page_tables(as.root());
    phys_offset = kDirectMapBase;
}

Result<volatile uint8_t*> map_mmio(uint64_t pa, uint64_t size) {
    uint64_t base = pa & ~0xfffull;
    uint64_t len = ((pa + size + 0xfff) & ~0xfffull) - base;
    if (mmio_next + len > kMmioWindowBase + kMmioWindowSize) return Error(Errno::kENOMEM);
    uint64_t va = mmio_next;
    TRY(kernel_as.map(va, base, len, kPteWrite | kPteNoExec | kPteUncached));
    mmio_next += len;
    return reinterpret_cast<volatile uint8_t*>(va + (pa - base));
}

}  // namespace kiln::arch
