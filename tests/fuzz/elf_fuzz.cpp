// Fuzz target for lib/kiln/elf.h: the ELF64 parser kiln-vmm runs on
// user-supplied kernels (and the kernel on app binaries). The input is the
// whole file. Every header, every note and both note lookups kiln-vmm does
// are exercised; each returned range is read (for ASan) and checked to lie
// inside the input, and the documented guarantees of ElfFile are asserted.
#include <stddef.h>
#include <stdint.h>

#include "fuzz_check.h"
#include "kiln/elf.h"

using namespace kiln;
using kiln::fuzz::touch;
using kiln::fuzz::within;

namespace {

struct Input {
    const uint8_t* data;
    size_t size;
};

uint32_t le32(const uint8_t* p) {
    return static_cast<uint32_t>(p[0] | p[1] << 8 | p[2] << 16 | static_cast<uint32_t>(p[3]) << 24);
}

void check_note(const Input& in, Bytes segment, size_t align, const elf::Note& note) {
    FUZZ_CHECK(within(note.name.data(), note.name.size(), segment.data(), segment.size()));
    FUZZ_CHECK(within(note.desc.data(), note.desc.size(), segment.data(), segment.size()));
    // The name starts right after the 12-byte header (gABI Nhdr); the sizes
    // returned are the header's, less the name's NUL, never silently short.
    const uint8_t* hdr = note.name.data() - 12;
    FUZZ_CHECK(within(hdr, 12, segment.data(), segment.size()));
    uint32_t namesz = le32(hdr);
    uint32_t descsz = le32(hdr + 4);
    FUZZ_CHECK(note.type == le32(hdr + 8));
    FUZZ_CHECK(note.name.size() == namesz ||
               (note.name.size() + 1 == namesz && note.name.data()[namesz - 1] == 0));
    FUZZ_CHECK(note.desc.size() == descsz);
    size_t name_padded = (static_cast<size_t>(namesz) + align - 1) / align * align;
    if (descsz > 0) FUZZ_CHECK(note.desc.data() == note.name.data() + name_padded);
    FUZZ_CHECK(within(note.desc.data(), note.desc.size(), in.data, in.size));
    touch(note.name.data(), note.name.size());
    touch(note.desc.data(), note.desc.size());
    // name_is() against the note's own name (when it has no NUL inside) and
    // against names kiln-vmm looks for.
    char name[64];
    if (note.name.size() < sizeof(name)) {
        bool has_nul = false;
        for (size_t i = 0; i < note.name.size(); ++i) {
            name[i] = static_cast<char>(note.name[i]);
            has_nul |= name[i] == '\0';
        }
        name[note.name.size()] = '\0';
        if (!has_nul) FUZZ_CHECK(note.name_is(name));
    }
    (void)note.name_is("Xen");
    (void)note.name_is("Kiln");
    (void)note.name_is("");
}

// Walks one note area to the end. Each note consumes at least its 12-byte
// header, so a walk that returns more notes than that is stuck.
void walk_notes(const Input& in, Bytes area, uint64_t align) {
    elf::NoteReader reader(area, align);
    elf::Note note;
    size_t count = 0;
    for (;;) {
        auto more = reader.next(&note);
        if (!more.ok()) {
            FUZZ_CHECK(more.error() == Errno::kENOEXEC);
            return;
        }
        if (!*more) return;
        FUZZ_CHECK(++count <= area.size() / 12);
        check_note(in, area, align == 8 ? 8 : 4, note);
    }
}

// What find_note() must answer, worked out with NoteReader the slow way:
// the first match in file order, unless a malformed note segment comes first.
struct Expected {
    bool found = false;
    Errno error = Errno::kENOENT;
    elf::Note note{};
};

Expected expected_note(const elf::ElfFile& elf, const char* name, uint32_t type) {
    Expected e;
    for (size_t i = 0; i < elf.phdr_count(); ++i) {
        elf::ProgramHeader ph = elf.phdr(i);
        if (ph.type != elf::kPtNote) continue;
        elf::NoteReader reader(elf.file_bytes(ph), ph.align);
        elf::Note note;
        for (;;) {
            auto more = reader.next(&note);
            if (!more.ok()) {
                e.error = more.error();
                return e;
            }
            if (!*more) break;
            if (note.type == type && note.name_is(name)) {
                e.found = true;
                e.note = note;
                return e;
            }
        }
    }
    return e;
}

void check_find_note(const Input& in, const elf::ElfFile& elf, const char* name, uint32_t type) {
    Expected want = expected_note(elf, name, type);
    auto got = elf.find_note(name, type);
    FUZZ_CHECK(got.ok() == want.found);
    if (!got.ok()) {
        FUZZ_CHECK(got.error() == want.error);
        return;
    }
    FUZZ_CHECK(got->type == type && got->name_is(name));
    FUZZ_CHECK(got->desc.data() == want.note.desc.data());
    FUZZ_CHECK(got->desc.size() == want.note.desc.size());
    FUZZ_CHECK(within(got->desc.data(), got->desc.size(), in.data, in.size));
    touch(got->desc.data(), got->desc.size());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    Input in{data, size};
    Bytes file(data, size);

    // The note reader alone, on the raw bytes, with both paddings: it takes
    // any span, so it need not wait for a valid ELF header to be reached.
    walk_notes(in, file, 4);
    walk_notes(in, file, 8);

    auto parsed = elf::ElfFile::parse(file);
    if (!parsed.ok()) {
        FUZZ_CHECK(parsed.error() == Errno::kENOEXEC);
        return 0;
    }
    const elf::ElfFile& elf = *parsed;
    FUZZ_CHECK(size >= elf::kEhdrSize);
    FUZZ_CHECK(elf.type() == elf::kTypeExec || elf.type() == elf::kTypeDyn);
    FUZZ_CHECK(elf.phdr_count() < 0xffff);
    FUZZ_CHECK(elf.phdr_count() * elf::kPhdrSize <= size);

    for (size_t i = 0; i < elf.phdr_count(); ++i) {
        elf::ProgramHeader ph = elf.phdr(i);
        // The guarantees elf.h makes for every header parse() accepted.
        FUZZ_CHECK(ph.offset <= size && ph.filesz <= size - ph.offset);
        FUZZ_CHECK(ph.vaddr + ph.memsz >= ph.vaddr);
        FUZZ_CHECK(ph.paddr + ph.memsz >= ph.paddr);
        if (ph.type == elf::kPtLoad) FUZZ_CHECK(ph.filesz <= ph.memsz);

        Bytes bytes = elf.file_bytes(ph);
        FUZZ_CHECK(bytes.size() == ph.filesz);
        if (ph.filesz > 0) FUZZ_CHECK(bytes.data() == data + ph.offset);
        FUZZ_CHECK(within(bytes.data(), bytes.size(), data, size));
        touch(bytes.data(), bytes.size());

        if (ph.type == elf::kPtNote) walk_notes(in, bytes, ph.align);
    }

    // The two lookups kiln-vmm makes (vmm/kernel_image.cpp), plus a GNU one.
    check_find_note(in, elf, "Kiln", 1);
    check_find_note(in, elf, "Xen", 18);
    check_find_note(in, elf, "GNU", 3);
    return 0;
}
