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

namespace {

constexpr uint64_t kNoExec = 1ull << 63;
constexpr uint64_t kAddrMask = 0x000ffffffffff000ull;
constexpr uint64_t k2M = 2ull << 20;
constexpr uint64_t kDirectMapBase = 0xffff888000000000ull;  // kernel/arch/x86_64/paging.h
// The kernel keeps this many pages after its image for early page tables
// (kernel/mm/memory.cpp): the monitor's tables must fit there.
constexpr uint64_t kEarlyTablePages = 96;

// Builds 4-level tables in guest RAM from a bump region.
class TableBuilder {
public:
    TableBuilder(GuestMemory& mem, uint64_t start, uint64_t limit, uint64_t user_bit)
        : mem_(mem), next_(start), limit_(limit), user_(user_bit) {
        root_ = take(2);  // the PML4 and kvm-pvm's twin (8 KiB aligned by the caller)
    }
    uint64_t root() const { return root_; }
    uint64_t end() const { return next_; }

    // Maps one page of 4 KiB (level 1) or 2 MiB (level 2); false on a remap.
    bool map(uint64_t va, uint64_t pa, uint64_t flags, int level) {
        uint64_t* t = table(root_);
        for (int l = 4; l > level; --l) {
            uint64_t& e = t[(va >> (12 + 9 * (l - 1))) & 511];
            if (!(e & kPresent)) e = take(1) | kTableFlagsNoUser | user_;
            if (e & kHuge) return false;
            t = table(e & kAddrMask);
        }
        uint64_t& leaf = t[(va >> (12 + 9 * (level - 1))) & 511];
        if (leaf & kPresent) return false;
        leaf = pa | flags | kPresent | kAccessed | ((flags & kWritable) ? kDirty : 0) | user_ |
               (level == 2 ? kHuge : 0);
        return true;
    }

private:
    static constexpr uint64_t kTableFlagsNoUser = kPresent | kWritable | kAccessed;

    uint64_t take(uint64_t pages) {
        uint64_t pa = next_;
        if (pa + pages * kPageSize > limit_) {
            fatal("internal: the kernel's page tables do not fit its early region");
        }
        next_ += pages * kPageSize;
        memset(table(pa), 0, pages * kPageSize);
        return pa;
    }
    uint64_t* table(uint64_t pa) { return vmm::table(mem_, pa); }

    GuestMemory& mem_;
    uint64_t next_, limit_, user_;
    uint64_t root_ = 0;
};

}  // namespace

bool write_kernel_tables(GuestMemory& mem, const KernelImage& kernel, bool pvm,
                         KernelTables* out) {
    if (kernel.kind != EntryKind::kLong64 || !kernel.has_descriptors || !kernel.has_layout) {
        return false;
    }
    const uint64_t img_end = kernel.layout.kernel_end - abi::kKernelVirtBase;
    const uint64_t guard = kernel.layout.boot_stack_guard;
    const uint64_t start = (img_end + 0x1fff) & ~0x1fffull;
    TableBuilder b(mem, start, img_end + kEarlyTablePages * kPageSize, pvm ? kUser : 0);

    // The image, segment by segment, W^X.
    const elf::ElfFile& elf = kernel.elf;
    for (size_t i = 0; i < elf.phdr_count(); ++i) {
        elf::ProgramHeader ph = elf.phdr(i);
        if (ph.type != elf::kPtLoad || ph.memsz == 0) continue;
        const uint64_t flags = ((ph.flags & elf::kPfW) ? kWritable : 0) |
                               ((ph.flags & elf::kPfX) ? 0 : kNoExec);
        const uint64_t first = ph.vaddr & ~(kPageSize - 1);
        for (uint64_t va = first; va < ph.vaddr + ph.memsz; va += kPageSize) {
            if (va == guard) continue;
            if (!b.map(va, ph.paddr - (ph.vaddr - va), flags, 1)) {
                fatal("kernel '%s': two segments share the page at 0x%llx; link them on "
                      "separate pages", kernel.path, static_cast<unsigned long long>(va));
            }
        }
    }

    // The direct map: all RAM and the reserved low MiB, never the image.
    const uint64_t img = abi::kKernelPhysLoad;
    auto in_image = [&](uint64_t pa, uint64_t n) { return pa < img_end && img < pa + n; };
    for (size_t r = 0; r < mem.range_count(); ++r) {
        const uint64_t end = mem.range(r).gpa + mem.range(r).size;
        for (uint64_t pa = mem.range(r).gpa; pa < end;) {
            if (pa % k2M == 0 && pa + k2M <= end && !in_image(pa, k2M)) {
                b.map(kDirectMapBase + pa, pa, kWritable | kNoExec, 2);
                pa += k2M;
                continue;
            }
            uint64_t next = (pa + k2M) & ~(k2M - 1);
            if (next > end) next = end;
            for (; pa < next; pa += kPageSize) {
                if (!in_image(pa, kPageSize)) b.map(kDirectMapBase + pa, pa, kWritable | kNoExec, 1);
            }
        }
    }
    out->root = b.root();
    out->end = b.end();
    return true;
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
