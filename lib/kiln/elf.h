// ELF64 parsing for x86-64 executables (System V gABI, "ELF-64 Object File
// Format" 1.5, and the x86-64 psABI §4). Used by kiln-vmm to load the kernel
// and by the kernel to load applications, so it is freestanding: no hosted
// library, no exceptions, no allocation. Every offset and size comes from the
// file and is checked before use, without overflow.
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "kiln/result.h"
#include "kiln/span.h"

namespace kiln::elf {

inline constexpr uint16_t kTypeExec = 2;  // ET_EXEC
inline constexpr uint16_t kTypeDyn = 3;   // ET_DYN
inline constexpr uint16_t kMachineX86_64 = 62;

inline constexpr uint32_t kPtLoad = 1;
inline constexpr uint32_t kPtDynamic = 2;
inline constexpr uint32_t kPtInterp = 3;
inline constexpr uint32_t kPtNote = 4;
inline constexpr uint32_t kPtPhdr = 6;
inline constexpr uint32_t kPtTls = 7;
inline constexpr uint32_t kPtGnuStack = 0x6474e551;

inline constexpr uint32_t kPfX = 1;
inline constexpr uint32_t kPfW = 2;
inline constexpr uint32_t kPfR = 4;

inline constexpr size_t kEhdrSize = 64;
inline constexpr size_t kPhdrSize = 56;
inline constexpr size_t kDynSize = 16;  // Elf64_Dyn: d_tag, d_val

// Dynamic-section tags (gABI "Dynamic Section", Figure 5-10).
inline constexpr int64_t kDtNull = 0;
inline constexpr int64_t kDtNeeded = 1;
inline constexpr int64_t kDtStrtab = 5;
inline constexpr int64_t kDtStrsz = 10;
inline constexpr int64_t kDtSoname = 14;
inline constexpr int64_t kDtRpath = 15;
inline constexpr int64_t kDtRunpath = 29;

// One program header, decoded. For every header returned by ElfFile, the file
// range [offset, offset+filesz) lies inside the file and vaddr+memsz and
// paddr+memsz do not overflow; PT_LOAD also has filesz <= memsz.
struct ProgramHeader {
    uint32_t type;
    uint32_t flags;
    uint64_t offset;
    uint64_t vaddr;
    uint64_t paddr;
    uint64_t filesz;
    uint64_t memsz;
    uint64_t align;
};

// One note (gABI "Note Section"): name without its terminating NUL.
struct Note {
    Bytes name;
    uint32_t type;
    Bytes desc;

    // True when the name is exactly `n` (a NUL-terminated string).
    bool name_is(const char* n) const;
};

// Walks the notes of one PT_NOTE segment (or SHT_NOTE section).
class NoteReader {
public:
    // `align` is the segment's p_align: 8 means 8-byte padding, else 4.
    NoteReader(Bytes notes, uint64_t align) : rest_(notes), align_(align == 8 ? 8 : 4) {}
    // The next note into *out: true, or false at the end; ENOEXEC when a
    // header or a size runs past the segment.
    Result<bool> next(Note* out);

private:
    Bytes rest_;
    size_t align_;
};

class ElfFile {
public:
    // Validates the ELF header and the whole program header table.
    // ENOEXEC: not an ELF64 little-endian x86-64 ET_EXEC/ET_DYN file, or a
    // header field points outside the file.
    static Result<ElfFile> parse(Bytes file);
    // The same checks when only the start of a file is at hand (a loader
    // reads the headers, then maps segments from the file): the program
    // header table must lie inside `head`; segment ranges are checked against
    // `file_size`. file_bytes() and find_note() see only what `head` holds.
    static Result<ElfFile> parse_headers(Bytes head, uint64_t file_size);

    uint16_t type() const { return type_; }
    uint64_t entry() const { return entry_; }
    uint64_t phdr_offset() const { return phoff_; }
    size_t phdr_count() const { return phnum_; }
    // Header i < phdr_count(), already validated by parse().
    ProgramHeader phdr(size_t i) const;
    // The file bytes of a header returned by phdr().
    Bytes file_bytes(const ProgramHeader& ph) const { return file_.subspan(ph.offset, ph.filesz); }

    // First note named `name` with type `type` in any PT_NOTE segment:
    // ENOENT when there is none, ENOEXEC when a note segment is malformed.
    Result<Note> find_note(const char* name, uint32_t type) const;

    // The PT_INTERP path (the program interpreter, e.g. the dynamic loader)
    // without its NUL: ENOENT when there is none, ENOEXEC when it is empty or
    // not NUL-terminated.
    Result<Bytes> interp() const;

    // The file bytes that the virtual addresses [vaddr, vaddr+size) are
    // loaded from, all inside one PT_LOAD's file part: ENOEXEC otherwise.
    Result<Bytes> bytes_at_vaddr(uint64_t vaddr, uint64_t size) const;

    ElfFile() = default;

private:
    static Result<ElfFile> parse_impl(Bytes head, uint64_t file_size);

    Bytes file_;
    uint16_t type_ = 0;
    uint64_t entry_ = 0;
    uint64_t phoff_ = 0;
    size_t phnum_ = 0;
};

struct DynEntry {
    int64_t tag;
    uint64_t value;
};

// The dynamic section (gABI "Dynamic Section") of an executable or shared
// object: its entries up to DT_NULL and its string table (DT_STRTAB,
// DT_STRSZ), which is found through the PT_LOAD segments.
class DynamicSection {
public:
    // ENOENT: no PT_DYNAMIC (a static executable). ENOEXEC: several
    // PT_DYNAMIC segments, or a string table outside the loaded file bytes.
    static Result<DynamicSection> parse(const ElfFile& elf);

    size_t count() const { return count_; }  // entries before DT_NULL
    DynEntry entry(size_t i) const;          // i < count()

    // The NUL-terminated string at `offset` in the string table, without its
    // NUL: ENOEXEC when it is not inside the table (or there is no table).
    Result<Bytes> string(uint64_t offset) const;
    // The string of the first entry with `tag` (DT_SONAME, DT_RPATH, ...):
    // ENOENT when there is no such entry.
    Result<Bytes> string_of(int64_t tag) const;

    DynamicSection() = default;

private:
    Bytes entries_;
    size_t count_ = 0;
    Bytes strtab_;
};

}  // namespace kiln::elf
