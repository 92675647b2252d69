// The kernel's embedded symbol table, so a crash report can name the function
// a return address falls in without a debugger.
//
// scripts/gen-ksyms writes the table as an assembler file (section .ksyms)
// from `nm -n` of a linked kernel: addresses sorted ascending, one name offset
// per address into a blob of NUL-terminated, demangled names. The kernel is
// linked twice: first against `gen-ksyms --empty`, then against the table of
// that first link; text addresses stay put as long as the linker script
// places .ksyms after .text.
#pragma once

#include <stddef.h>
#include <stdint.h>

extern "C" {
// Defined by the generated assembler file; only the kernel links one.
extern const uint64_t kiln_ksym_addrs[];
extern const uint32_t kiln_ksym_name_offsets[];
extern const char kiln_ksym_names[];
extern const uint32_t kiln_ksym_count;
}

namespace kiln {

struct KsymTable {
    const uint64_t* addrs;         // [count], ascending
    const uint32_t* name_offsets;  // [count], offsets into names
    const char* names;             // NUL-terminated names, back to back
    uint32_t count;
};

// The table linked into this image. Inline, so hosted code that never calls
// it does not need the generated symbols.
inline KsymTable kernel_ksyms() {
    return KsymTable{kiln_ksym_addrs, kiln_ksym_name_offsets, kiln_ksym_names, kiln_ksym_count};
}

// Finds the symbol with the greatest address <= addr. On success sets *name
// and *offset (addr - symbol address) and returns true; returns false when the
// table is empty or addr lies below its first symbol. Among symbols sharing an
// address the first in the table wins (the generator keeps only one).
bool ksym_lookup(const KsymTable& table, uint64_t addr, const char** name, uint64_t* offset);

}  // namespace kiln
