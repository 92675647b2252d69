#include "kiln/elf.h"

namespace kiln::elf {

namespace {

// Little-endian loads from a span whose bounds the caller has checked.
uint16_t le16(Bytes b, size_t off) {
    return static_cast<uint16_t>(b[off] | (b[off + 1] << 8));
}
uint32_t le32(Bytes b, size_t off) {
    return static_cast<uint32_t>(le16(b, off)) | (static_cast<uint32_t>(le16(b, off + 2)) << 16);
}
uint64_t le64(Bytes b, size_t off) {
    return static_cast<uint64_t>(le32(b, off)) | (static_cast<uint64_t>(le32(b, off + 4)) << 32);
}

bool add_overflows(uint64_t a, uint64_t b) { return a + b < a; }

// Rounds n up to a multiple of `align` (a power of two); false on overflow.
bool align_up(size_t n, size_t align, size_t* out) {
    if (n > static_cast<size_t>(-1) - (align - 1)) return false;
    *out = (n + align - 1) & ~(align - 1);
    return true;
}

ProgramHeader decode_phdr(Bytes p) {
    ProgramHeader ph;
    ph.type = le32(p, 0);
    ph.flags = le32(p, 4);
    ph.offset = le64(p, 8);
    ph.vaddr = le64(p, 16);
    ph.paddr = le64(p, 24);
    ph.filesz = le64(p, 32);
    ph.memsz = le64(p, 40);
    ph.align = le64(p, 48);
    return ph;
}

}  // namespace

bool Note::name_is(const char* n) const {
    size_t i = 0;
    for (; n[i] != '\0'; ++i) {
        if (i >= name.size() || name[i] != static_cast<uint8_t>(n[i])) return false;
    }
    return i == name.size();
}

Result<bool> NoteReader::next(Note* out) {
    if (rest_.empty()) return false;
    // Nhdr: namesz, descsz, type (u32 each), then the padded name and desc.
    if (!rest_.contains(0, 12)) return Error(Errno::kENOEXEC);
    uint32_t namesz = le32(rest_, 0);
    uint32_t descsz = le32(rest_, 4);
    uint32_t type = le32(rest_, 8);
    size_t name_padded;
    size_t desc_padded;
    if (!align_up(namesz, align_, &name_padded)) return Error(Errno::kENOEXEC);
    if (!align_up(descsz, align_, &desc_padded)) return Error(Errno::kENOEXEC);
    Bytes body = rest_.subspan(12);
    if (!body.contains(0, name_padded)) return Error(Errno::kENOEXEC);
    if (!body.contains(name_padded, descsz)) return Error(Errno::kENOEXEC);
    // The name's size counts its NUL; a zero-size name is allowed and empty.
    size_t name_len = namesz;
    if (name_len > 0 && body[name_len - 1] == 0) --name_len;
    out->name = body.subspan(0, name_len);
    out->type = type;
    out->desc = body.subspan(name_padded, descsz);
    // The last note's desc padding may be cut off at the end of the segment.
    size_t consumed = name_padded + desc_padded;
    rest_ = body.contains(0, consumed) ? body.subspan(consumed) : Bytes();
    return true;
}

Result<ElfFile> ElfFile::parse(Bytes file) {
    return parse_impl(file, file.size());
}

Result<ElfFile> ElfFile::parse_headers(Bytes head, uint64_t file_size) {
    if (head.size() > file_size) return Error(Errno::kENOEXEC);
    return parse_impl(head, file_size);
}

Result<ElfFile> ElfFile::parse_impl(Bytes file, uint64_t file_size) {
    if (!file.contains(0, kEhdrSize)) return Error(Errno::kENOEXEC);
    if (file[0] != 0x7f || file[1] != 'E' || file[2] != 'L' || file[3] != 'F') {
        return Error(Errno::kENOEXEC);
    }
    // e_ident: EI_CLASS = ELFCLASS64, EI_DATA = ELFDATA2LSB, EI_VERSION = 1.
    if (file[4] != 2 || file[5] != 1 || file[6] != 1) return Error(Errno::kENOEXEC);
    uint16_t type = le16(file, 16);
    if (type != kTypeExec && type != kTypeDyn) return Error(Errno::kENOEXEC);
    if (le16(file, 18) != kMachineX86_64) return Error(Errno::kENOEXEC);
    if (le32(file, 20) != 1) return Error(Errno::kENOEXEC);

    ElfFile elf;
    elf.file_ = file;
    elf.type_ = type;
    elf.entry_ = le64(file, 24);
    elf.phoff_ = le64(file, 32);
    uint16_t ehsize = le16(file, 52);
    uint16_t phentsize = le16(file, 54);
    uint16_t phnum = le16(file, 56);
    if (ehsize < kEhdrSize) return Error(Errno::kENOEXEC);
    // PN_XNUM (0xffff) moves the count into section 0: not used by executables.
    if (phnum == 0xffff) return Error(Errno::kENOEXEC);
    if (phnum > 0 && phentsize != kPhdrSize) return Error(Errno::kENOEXEC);
    elf.phnum_ = phnum;
    uint64_t table_size = static_cast<uint64_t>(phnum) * kPhdrSize;
    if (!file.contains(elf.phoff_, table_size)) return Error(Errno::kENOEXEC);

    for (size_t i = 0; i < elf.phnum_; ++i) {
        ProgramHeader ph = elf.phdr(i);
        if (ph.offset > file_size || ph.filesz > file_size - ph.offset) {
            return Error(Errno::kENOEXEC);
        }
        if (add_overflows(ph.vaddr, ph.memsz) || add_overflows(ph.paddr, ph.memsz)) {
            return Error(Errno::kENOEXEC);
        }
        if (ph.type == kPtLoad && ph.filesz > ph.memsz) return Error(Errno::kENOEXEC);
    }
    return elf;
}

ProgramHeader ElfFile::phdr(size_t i) const {
    return decode_phdr(file_.subspan(phoff_ + i * kPhdrSize, kPhdrSize));
}

Result<Note> ElfFile::find_note(const char* name, uint32_t type) const {
    for (size_t i = 0; i < phnum_; ++i) {
        ProgramHeader ph = phdr(i);
        if (ph.type != kPtNote) continue;
        NoteReader reader(file_bytes(ph), ph.align);
        Note note;
        for (;;) {
            bool more = TRY(reader.next(&note));
            if (!more) break;
            if (note.type == type && note.name_is(name)) return note;
        }
    }
    return Error(Errno::kENOENT);
}

Result<Bytes> ElfFile::interp() const {
    for (size_t i = 0; i < phnum_; ++i) {
        ProgramHeader ph = phdr(i);
        if (ph.type != kPtInterp) continue;
        Bytes path = file_bytes(ph);
        if (path.size() < 2 || path[path.size() - 1] != 0) return Error(Errno::kENOEXEC);
        // The path ends at its first NUL; a NUL before the end shortens it.
        size_t n = 0;
        while (path[n] != 0) ++n;
        if (n == 0) return Error(Errno::kENOEXEC);
        return path.subspan(0, n);
    }
    return Error(Errno::kENOENT);
}

Result<Bytes> ElfFile::bytes_at_vaddr(uint64_t vaddr, uint64_t size) const {
    for (size_t i = 0; i < phnum_; ++i) {
        ProgramHeader ph = phdr(i);
        if (ph.type != kPtLoad) continue;
        if (vaddr < ph.vaddr) continue;
        uint64_t rel = vaddr - ph.vaddr;
        // parse() checked [offset, offset+filesz) is in the file.
        if (rel > ph.filesz || size > ph.filesz - rel) continue;
        return file_.subspan(ph.offset + rel, size);
    }
    return Error(Errno::kENOEXEC);
}

Result<DynamicSection> DynamicSection::parse(const ElfFile& elf) {
    DynamicSection d;
    bool found = false;
    for (size_t i = 0; i < elf.phdr_count(); ++i) {
        ProgramHeader ph = elf.phdr(i);
        if (ph.type != kPtDynamic) continue;
        if (found) return Error(Errno::kENOEXEC);
        found = true;
        d.entries_ = elf.file_bytes(ph);
    }
    if (!found) return Error(Errno::kENOENT);
    // Entries run to DT_NULL; a table without one ends with its segment.
    size_t max = d.entries_.size() / kDynSize;
    while (d.count_ < max && static_cast<int64_t>(le64(d.entries_, d.count_ * kDynSize)) != kDtNull) {
        ++d.count_;
    }
    bool have_strtab = false, have_strsz = false;
    uint64_t strtab = 0, strsz = 0;
    for (size_t i = 0; i < d.count_; ++i) {
        DynEntry e = d.entry(i);
        if (e.tag == kDtStrtab && !have_strtab) {
            have_strtab = true;
            strtab = e.value;
        } else if (e.tag == kDtStrsz && !have_strsz) {
            have_strsz = true;
            strsz = e.value;
        }
    }
    if (have_strtab != have_strsz) return Error(Errno::kENOEXEC);
    if (have_strtab) d.strtab_ = TRY(elf.bytes_at_vaddr(strtab, strsz));
    return d;
}

DynEntry DynamicSection::entry(size_t i) const {
    return DynEntry{static_cast<int64_t>(le64(entries_, i * kDynSize)),
                    le64(entries_, i * kDynSize + 8)};
}

Result<Bytes> DynamicSection::string(uint64_t offset) const {
    if (offset >= strtab_.size()) return Error(Errno::kENOEXEC);
    for (size_t end = offset; end < strtab_.size(); ++end) {
        if (strtab_[end] == 0) return strtab_.subspan(offset, end - offset);
    }
    return Error(Errno::kENOEXEC);
}

Result<Bytes> DynamicSection::string_of(int64_t tag) const {
    for (size_t i = 0; i < count_; ++i) {
        DynEntry e = entry(i);
        if (e.tag == tag) return string(e.value);
    }
    return Error(Errno::kENOENT);
}

}  // namespace kiln::elf
