#include "kernel_image.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "abi/boot.h"
#include "log.h"

namespace kiln::vmm {

namespace {

constexpr uint64_t kGiB = 1ull << 30;

Bytes map_file(const char* path) {
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        if (errno == ENOENT) fatal("kernel '%s' not found; check the path", path);
        fatal("cannot open kernel '%s': %s; check that the file is readable", path,
              strerror(errno));
    }
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        fatal("kernel '%s' is not a regular file; pass the kernel ELF", path);
    }
    if (st.st_size == 0) fatal("kernel '%s' is empty; pass the kernel ELF", path);
    // A private read-only mapping: segments are copied straight from the page
    // cache into guest RAM, with no intermediate buffer.
    void* p = mmap(nullptr, st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
    if (p == MAP_FAILED) fatal("cannot read kernel '%s': %s", path, strerror(errno));
    close(fd);
    return Bytes(static_cast<const uint8_t*>(p), st.st_size);
}

uint64_t read_le(Bytes b, size_t n) {
    uint64_t v = 0;
    for (size_t i = 0; i < n; ++i) v |= static_cast<uint64_t>(b[i]) << (8 * i);
    return v;
}

// Physical address the boot page tables give to virtual address va, or ~0.
uint64_t boot_va_to_pa(uint64_t va) {
    if (va >= abi::kKernelVirtBase) {
        uint64_t pa = va - abi::kKernelVirtBase;
        return pa < kGiB ? pa : ~0ull;
    }
    return va < 4 * kGiB ? va : ~0ull;
}

bool in_load_segment(const elf::ElfFile& elf, uint64_t pa) {
    for (size_t i = 0; i < elf.phdr_count(); ++i) {
        elf::ProgramHeader ph = elf.phdr(i);
        if (ph.type == elf::kPtLoad && pa >= ph.paddr && pa - ph.paddr < ph.memsz) return true;
    }
    return false;
}

}  // namespace

KernelImage open_kernel(const char* path) {
    Bytes file = map_file(path);
    auto parsed = elf::ElfFile::parse(file);
    if (!parsed.ok()) {
        fatal("kernel '%s' is not an x86-64 ELF executable (or its headers are corrupt); "
              "pass the kernel ELF, not a bzImage or a compressed file", path);
    }
    KernelImage img{path, *parsed, EntryKind::kLong64, 0, 0};
    const char* bad_notes = "kernel '%s' has malformed ELF notes; rebuild the kernel";

    auto kiln_note = img.elf.find_note("Kiln", abi::kKilnNoteEntry64);
    if (kiln_note.ok() && kiln_note->desc.size() == 8) {
        img.kind = EntryKind::kLong64;
        img.entry = read_le(kiln_note->desc, 8);
    } else if (!kiln_note.ok() && kiln_note.error() != Errno::kENOENT) {
        fatal(bad_notes, path);
    } else {
        auto xen_note = img.elf.find_note("Xen", abi::kXenNotePhys32Entry);
        if (!xen_note.ok() && xen_note.error() != Errno::kENOENT) fatal(bad_notes, path);
        if (!xen_note.ok() || xen_note->desc.size() < 4) {
            fatal("kernel '%s' has no usable entry point: it needs a \"Kiln\" note (type 1, "
                  "64-bit entry) or a Xen PVH note (XEN_ELFNOTE_PHYS32_ENTRY)",
                  path);
        }
        img.kind = EntryKind::kPvh32;
        img.entry = read_le(xen_note->desc, 4);
    }

    if (img.kind == EntryKind::kLong64) {
        auto d = img.elf.find_note("Kiln", abi::kKilnNoteDescriptors);
        if (d.ok()) {
            if (d->desc.size() != sizeof(abi::KilnDescriptorNote)) fatal(bad_notes, path);
            abi::KilnDescriptorNote& n = img.descriptors;
            n.gdt = read_le(d->desc, 8);
            n.idt = read_le(d->desc.subspan(8), 8);
            n.tss = read_le(d->desc.subspan(16), 8);
            n.gdt_limit = static_cast<uint16_t>(read_le(d->desc.subspan(24), 2));
            n.idt_limit = static_cast<uint16_t>(read_le(d->desc.subspan(26), 2));
            n.tss_limit = static_cast<uint16_t>(read_le(d->desc.subspan(28), 2));
            // The tables must lie in the image the boot tables map, and be
            // big enough for what the CPU reads from them.
            const uint64_t tables[] = {n.gdt, n.idt, n.tss};
            for (uint64_t va : tables) {
                if (va < abi::kKernelVirtBase || boot_va_to_pa(va) >= (1ull << 30)) {
                    fatal("kernel '%s': descriptor note names 0x%llx, outside the kernel's "
                          "mapping; rebuild the kernel", path, static_cast<unsigned long long>(va));
                }
            }
            if (n.gdt_limit < abi::kKilnTssSelector + 15 || n.tss_limit < 103) fatal(bad_notes, path);
            img.has_descriptors = true;
        } else if (d.error() != Errno::kENOENT) {
            fatal(bad_notes, path);
        }
        auto l = img.elf.find_note("Kiln", abi::kKilnNoteLayout);
        if (l.ok()) {
            if (l->desc.size() != sizeof(abi::KilnLayoutNote)) fatal(bad_notes, path);
            img.layout.kernel_end = read_le(l->desc, 8);
            img.layout.boot_stack_guard = read_le(l->desc.subspan(8), 8);
            const uint64_t end_pa = boot_va_to_pa(img.layout.kernel_end);
            const uint64_t guard_pa = boot_va_to_pa(img.layout.boot_stack_guard);
            if (end_pa == ~0ull || guard_pa == ~0ull || (end_pa | guard_pa) % 4096 != 0 ||
                guard_pa >= end_pa) {
                fatal("kernel '%s': layout note is inconsistent; rebuild the kernel", path);
            }
            img.has_layout = true;
        } else if (l.error() != Errno::kENOENT) {
            fatal(bad_notes, path);
        }
    }

    size_t loads = 0;
    for (size_t i = 0; i < img.elf.phdr_count(); ++i) {
        elf::ProgramHeader ph = img.elf.phdr(i);
        if (ph.type != elf::kPtLoad || ph.memsz == 0) continue;
        ++loads;
        if (ph.paddr + ph.memsz > img.load_end) img.load_end = ph.paddr + ph.memsz;
    }
    if (loads == 0) fatal("kernel '%s' has no loadable segments; rebuild the kernel", path);
    if (img.has_layout && boot_va_to_pa(img.layout.kernel_end) < img.load_end) {
        fatal("kernel '%s': layout note ends the image before its last segment; rebuild the "
              "kernel", path);
    }
    uint64_t entry_pa = img.kind == EntryKind::kLong64 ? boot_va_to_pa(img.entry) : img.entry;
    if (!in_load_segment(img.elf, entry_pa)) {
        fatal("kernel '%s' has no usable entry point: entry 0x%llx is outside its loaded "
              "segments", path, static_cast<unsigned long long>(img.entry));
    }
    return img;
}

void load_kernel(const KernelImage& img, GuestMemory& mem) {
    const elf::ElfFile& elf = img.elf;
    for (size_t i = 0; i < elf.phdr_count(); ++i) {
        elf::ProgramHeader ph = elf.phdr(i);
        if (ph.type != elf::kPtLoad || ph.memsz == 0) continue;
        unsigned long long pa = ph.paddr, end = ph.paddr + ph.memsz;
        if (ph.paddr < abi::kLowReservedEnd) {
            fatal("kernel '%s': segment at 0x%llx overlaps the reserved area below 1 MiB; "
                  "link the kernel at 1 MiB or above", img.path, pa);
        }
        auto dst = mem.span(ph.paddr, ph.memsz);
        if (!dst.ok()) {
            fatal("kernel '%s': segment [0x%llx, 0x%llx) does not fit in guest RAM (%llu MiB); "
                  "raise --mem", img.path, pa, end,
                  static_cast<unsigned long long>(mem.size() >> 20));
        }
        for (size_t j = 0; j < i; ++j) {
            elf::ProgramHeader o = elf.phdr(j);
            if (o.type != elf::kPtLoad || o.memsz == 0) continue;
            if (ph.paddr < o.paddr + o.memsz && o.paddr < ph.paddr + ph.memsz) {
                fatal("kernel '%s': segments at 0x%llx and 0x%llx overlap; rebuild the kernel",
                      img.path, static_cast<unsigned long long>(o.paddr), pa);
            }
        }
        // The bss part [filesz, memsz) is already zero: guest RAM is fresh
        // anonymous memory and no two segments overlap.
        memcpy(dst->data(), elf.file_bytes(ph).data(), ph.filesz);
    }
}

}  // namespace kiln::vmm
