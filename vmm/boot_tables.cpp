// Boot page tables and GDT for the 64-bit direct entry (lib/abi/boot.h).
// kvm-pvm needs U/S=1 at every level and a copy of the PML4 at CR3+0x1000
// (/work/shared/PVM.md, "Native supervisor mode").
#include "abi/boot.h"
#include "boot_setup.h"
#include "log.h"

#include <string.h>

namespace kiln::vmm {

namespace {

constexpr uint64_t kPresent = 1, kWritable = 2, kUser = 4, kAccessed = 0x20, kDirty = 0x40,
                   kHuge = 0x80;
// Accessed and dirty preset: under shadow paging a first read of a page
// not yet dirty is mapped read-only, and the first write faults again.
constexpr uint64_t kTableFlags = kPresent | kWritable | kUser | kAccessed;
constexpr uint64_t kPageSize = 0x1000;

// Layout at kBootPml4Gpa: PML4, PML4 copy, PDPT (low), PDPT (high), 4 PDs.
constexpr uint64_t kPml4 = abi::kBootPml4Gpa;
constexpr uint64_t kPml4Copy = kPml4 + kPageSize;
constexpr uint64_t kPdptLow = kPml4 + 2 * kPageSize;
constexpr uint64_t kPdptHigh = kPml4 + 3 * kPageSize;
constexpr uint64_t kPd0 = kPml4 + 4 * kPageSize;  // kPd0 + i*4K maps [i GiB, i+1 GiB)
constexpr uint64_t kTablesEnd = kPd0 + 4 * kPageSize;
static_assert(kPml4 % 0x2000 == 0, "CR3 bit 12 must be clear");
static_assert(kTablesEnd <= abi::kLowReservedEnd);
static_assert(kBootGdtGpa + 8 * kGdtEntries <= abi::kBootPml4Gpa);
static_assert(abi::kCmdlineGpa + abi::kCmdlineMax <= kBootGdtGpa);

uint64_t* table(GuestMemory& mem, uint64_t gpa) {
    auto t = mem.object<uint64_t>(gpa);
    // The reserved area always lies in RAM (--mem >= 16 MiB); a failure here
    // is a bug in this file, not bad input.
    if (!t.ok()) fatal("internal: boot table at 0x%llx outside RAM", (unsigned long long)gpa);
    return *t;
}

}  // namespace

void write_page_tables(GuestMemory& mem) {
    uint64_t* pml4 = table(mem, kPml4);
    uint64_t* pdpt_low = table(mem, kPdptLow);
    uint64_t* pdpt_high = table(mem, kPdptHigh);
    for (uint64_t g = 0; g < 4; ++g) {
        uint64_t* pd = table(mem, kPd0 + g * kPageSize);
        for (uint64_t i = 0; i < 512; ++i) {
            pd[i] = ((g << 30) + (i << 21)) | kTableFlags | kDirty | kHuge;
        }
        pdpt_low[g] = (kPd0 + g * kPageSize) | kTableFlags;
    }
    // kKernelVirtBase = PML4 slot 511, PDPT slot 510: the first GiB again.
    pdpt_high[510] = kPd0 | kTableFlags;
    pml4[0] = kPdptLow | kTableFlags;
    pml4[511] = kPdptHigh | kTableFlags;
    memcpy(table(mem, kPml4Copy), pml4, kPageSize);
}

void write_gdt(GuestMemory& mem) {
    uint64_t* gdt = table(mem, kBootGdtGpa);
    gdt[0] = 0;
    gdt[1] = 0x00cf9b000000ffffull;  // 0x08 code32, flat (PVH entry)
    gdt[2] = 0x00af9b000000ffffull;  // 0x10 kernel code64
    gdt[3] = 0x00cf93000000ffffull;  // 0x18 kernel data
    gdt[4] = 0x00cffb000000ffffull;  // 0x23 user code32 (unused)
    gdt[5] = 0x00cff3000000ffffull;  // 0x2b user data
    gdt[6] = 0x00affb000000ffffull;  // 0x33 user code64 (kvm-pvm's IDT gate selector)
}

}  // namespace kiln::vmm
