// Symbol lookup on real ELF files: this test binary itself (it has a
// .symtab) and a truncated copy of it.
#include <gtest/gtest.h>
#include <link.h>
#include <stdint.h>

#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "kiln/elf_symbols.h"

extern "C" __attribute__((noinline)) int kiln_elf_symbols_probe(int x) { return x * 3 + 1; }

namespace {

std::vector<uint8_t> self_bytes() {
    std::ifstream f("/proc/self/exe", std::ios::binary);
    return std::vector<uint8_t>(std::istreambuf_iterator<char>(f), {});
}

// The file offset the loader mapped at `addr` (PT_LOAD of this executable).
uint64_t file_offset_of(const void* addr) {
    struct Query {
        uintptr_t addr;
        uint64_t offset = 0;
        bool found = false;
    } q{reinterpret_cast<uintptr_t>(addr)};
    dl_iterate_phdr(
        [](dl_phdr_info* info, size_t, void* data) {
            auto* q = static_cast<Query*>(data);
            for (int i = 0; i < info->dlpi_phnum && !q->found; i++) {
                const auto& ph = info->dlpi_phdr[i];
                const uintptr_t start = info->dlpi_addr + ph.p_vaddr;
                if (ph.p_type == PT_LOAD && q->addr >= start && q->addr < start + ph.p_filesz) {
                    q->offset = ph.p_offset + (q->addr - start);
                    q->found = true;
                }
            }
            return q->found ? 1 : 0;
        },
        &q);
    return q.found ? q.offset : ~0ull;
}

TEST(ElfSymbols, NamesAFunctionInThisBinary) {
    std::vector<uint8_t> file = self_bytes();
    const uint64_t off = file_offset_of(reinterpret_cast<const void*>(&kiln_elf_symbols_probe));
    ASSERT_NE(off, ~0ull);
    auto sym = kiln::elf_symbol_at_file_offset(kiln::Bytes(file.data(), file.size()), off + 2);
    ASSERT_TRUE(sym.ok()) << kiln::errno_name(sym.error());
    EXPECT_EQ(std::string(sym->name.data(), sym->name.size()), "kiln_elf_symbols_probe");
    EXPECT_EQ(sym->offset, 2u);
}

TEST(ElfSymbols, OffsetOutsideAnySegmentIsNotFound) {
    std::vector<uint8_t> file = self_bytes();
    auto sym = kiln::elf_symbol_at_file_offset(kiln::Bytes(file.data(), file.size()), file.size() + 100);
    ASSERT_FALSE(sym.ok());
    EXPECT_EQ(sym.error(), kiln::Errno::kENOENT);
}

TEST(ElfSymbols, TruncatedFilesFailCleanly) {
    std::vector<uint8_t> file = self_bytes();
    const uint64_t off = file_offset_of(reinterpret_cast<const void*>(&kiln_elf_symbols_probe));
    for (size_t cut : {size_t(0), size_t(10), size_t(64), file.size() / 2, file.size() - 1}) {
        auto sym = kiln::elf_symbol_at_file_offset(kiln::Bytes(file.data(), cut), off);
        EXPECT_FALSE(sym.ok() && std::string(sym->name.data(), sym->name.size()) != "kiln_elf_symbols_probe")
            << "cut " << cut;
    }
}

}  // namespace
