// ELF-64 section headers and symbol tables (System V gABI, "Sections" and
// "Symbol Table").
#include "kiln/elf_symbols.h"

#include "kiln/elf.h"

namespace kiln {
namespace {

constexpr uint32_t kShtSymtab = 2, kShtDynsym = 11;
constexpr uint8_t kSttFunc = 2, kSttNotype = 0;

template <typename T>
T load(Bytes b, uint64_t off) {
    T v;
    auto* d = reinterpret_cast<uint8_t*>(&v);
    for (size_t i = 0; i < sizeof(T); i++) d[i] = b[off + i];
    return v;
}

struct Section {
    uint32_t type;
    uint32_t link;
    uint64_t offset, size, entsize;
};

Result<Section> section(Bytes f, uint64_t shoff, uint16_t shentsize, uint32_t i) {
    const uint64_t at = shoff + uint64_t(i) * shentsize;
    if (shentsize < 64 || !f.contains(at, 64)) return Error(Errno::kEINVAL);
    return Section{load<uint32_t>(f, at + 4), load<uint32_t>(f, at + 40), load<uint64_t>(f, at + 24),
                   load<uint64_t>(f, at + 32), load<uint64_t>(f, at + 56)};
}

// The best symbol in one table: the function whose [value, value+size)
// holds vaddr, else the nearest function start below it.
Result<ElfSymbol> search(Bytes f, const Section& syms, const Section& strs, uint64_t vaddr) {
    if (syms.entsize < 24 || !f.contains(syms.offset, syms.size) || !f.contains(strs.offset, strs.size)) {
        return Error(Errno::kEINVAL);
    }
    uint64_t best_value = 0;
    uint32_t best_name = 0;
    bool found = false;
    for (uint64_t at = syms.offset; at + 24 <= syms.offset + syms.size; at += syms.entsize) {
        const uint32_t name = load<uint32_t>(f, at);
        const uint8_t type = load<uint8_t>(f, at + 4) & 0xf;
        const uint16_t shndx = load<uint16_t>(f, at + 6);
        const uint64_t value = load<uint64_t>(f, at + 8), size = load<uint64_t>(f, at + 16);
        if ((type != kSttFunc && type != kSttNotype) || shndx == 0 || name == 0 || value > vaddr) continue;
        if (size != 0 && vaddr - value >= size) continue;
        if (!found || value > best_value) {
            best_value = value;
            best_name = name;
            found = true;
        }
    }
    if (!found || best_name >= strs.size) return Error(Errno::kENOENT);
    const char* s = reinterpret_cast<const char*>(f.data() + strs.offset + best_name);
    size_t len = 0;
    while (best_name + len < strs.size && s[len]) len++;
    return ElfSymbol{Span<const char>(s, len), vaddr - best_value};
}

}  // namespace

Result<ElfSymbol> elf_symbol_at_file_offset(Bytes f, uint64_t file_offset) {
    elf::ElfFile elf = TRY(elf::ElfFile::parse(f));
    // The virtual address of that byte, through the PT_LOAD that holds it.
    uint64_t vaddr = 0;
    bool mapped = false;
    for (size_t i = 0; i < elf.phdr_count() && !mapped; i++) {
        const elf::ProgramHeader ph = elf.phdr(i);
        if (ph.type == elf::kPtLoad && file_offset >= ph.offset && file_offset - ph.offset < ph.filesz) {
            vaddr = ph.vaddr + (file_offset - ph.offset);
            mapped = true;
        }
    }
    if (!mapped || !f.contains(0, 64)) return Error(Errno::kENOENT);
    const uint64_t shoff = load<uint64_t>(f, 40);
    const uint16_t shentsize = load<uint16_t>(f, 58), shnum = load<uint16_t>(f, 60);
    if (shoff == 0 || shnum == 0) return Error(Errno::kENOENT);
    const uint32_t kOrder[] = {kShtSymtab, kShtDynsym};  // the full table first
    for (uint32_t want : kOrder) {
        for (uint32_t i = 0; i < shnum; i++) {
            const Section s = TRY(section(f, shoff, shentsize, i));
            if (s.type != want || s.link >= shnum) continue;
            const Section strs = TRY(section(f, shoff, shentsize, s.link));
            auto r = search(f, s, strs, vaddr);
            if (r.ok() || r.error() != Errno::kENOENT) return r;
        }
    }
    return Error(Errno::kENOENT);
}

}  // namespace kiln
