// Names for code addresses from an ELF file's symbol table (.symtab, or
// .dynsym when stripped): crash reports name the function an application
// died in. The file is attacker-controlled input: every table is
// bounds-checked against the span.
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "kiln/result.h"
#include "kiln/span.h"

namespace kiln {

struct ElfSymbol {
    Span<const char> name;  // inside the file's bytes, not NUL-terminated
    uint64_t offset;        // of the address past the symbol's start
};

// The function containing the byte at `file_offset` of `file` (mapped from
// a PT_LOAD segment): ENOENT when no symbol covers it, EINVAL for a file
// whose headers or tables are malformed.
Result<ElfSymbol> elf_symbol_at_file_offset(Bytes file, uint64_t file_offset);

}  // namespace kiln
