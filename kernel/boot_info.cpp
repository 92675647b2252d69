// Reads the PVH start info ("hvm_start_info" v1). The monitor is trusted
// to boot us, but its tables are still bounds-checked: a garbled memmap
// must not make the kernel write outside RAM.
#include "boot_info.h"

#include "arch/x86_64/paging.h"
#include "klog.h"

namespace kiln {
namespace {

// Boot structures live in low memory: identity-mapped by the boot tables,
// or in the direct map when kiln-vmm built the kernel's own tables
// (arch::phys_to_virt knows which).
template <typename T>
const T* phys(uint64_t pa) {
    // SAFETY: only called with addresses below 1 GiB, which both the boot
    // tables and the monitor-built direct map cover.
    return static_cast<const T*>(arch::phys_to_virt(pa));
}

constexpr uint64_t kBootMapLimit = 1ull << 30;

}  // namespace

bool parse_boot_info(uint64_t pa, BootInfo* out) {
    if (pa == 0 || pa + sizeof(abi::HvmStartInfo) > kBootMapLimit) return false;
    const auto* si = phys<abi::HvmStartInfo>(pa);
    if (si->magic != abi::kHvmStartMagic) return false;
    out->start_info_pa = pa;

    if (si->cmdline_paddr != 0 && si->cmdline_paddr < kBootMapLimit) {
        const char* c = phys<char>(si->cmdline_paddr);
        size_t i = 0;
        for (; i + 1 < sizeof(out->cmdline) && si->cmdline_paddr + i < kBootMapLimit && c[i]; i++) {
            out->cmdline[i] = c[i];
        }
        out->cmdline[i] = 0;
    }

    const uint64_t nmod = si->nr_modules < BootInfo::kMaxModules ? si->nr_modules : BootInfo::kMaxModules;
    if (nmod > 0 && si->modlist_paddr != 0 &&
        si->modlist_paddr + nmod * sizeof(abi::HvmModlistEntry) <= kBootMapLimit) {
        const auto* mod = phys<abi::HvmModlistEntry>(si->modlist_paddr);
        for (uint64_t i = 0; i < nmod; i++) {
            if (mod[i].size == 0 || mod[i].paddr + mod[i].size < mod[i].paddr) continue;
            out->modules[out->module_count++] = MemRange{mod[i].paddr, mod[i].size};
        }
    }

    if (si->version >= 1 && si->memmap_paddr != 0 && si->memmap_entries > 0) {
        uint64_t n = si->memmap_entries;
        if (n > 128) n = 128;
        if (si->memmap_paddr + n * sizeof(abi::HvmMemmapEntry) > kBootMapLimit) return false;
        const auto* e = phys<abi::HvmMemmapEntry>(si->memmap_paddr);
        for (uint64_t i = 0; i < n && out->ram_count < BootInfo::kMaxRam; i++) {
            if (e[i].type != abi::kMemRam || e[i].size == 0) continue;
            if (e[i].addr + e[i].size < e[i].addr) continue;  // wraps
            out->ram[out->ram_count++] = MemRange{e[i].addr, e[i].size};
        }
    }
    return out->ram_count > 0;
}

}  // namespace kiln
