// lib/kiln/elf: header and program-header validation, PT_LOAD and PT_NOTE
// walking, PT_INTERP and the dynamic section, and the malformed inputs a
// hostile image can carry.
#include "kiln/elf.h"

#include <gtest/gtest.h>

#include <cstring>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

using kiln::Bytes;
using kiln::Errno;
using namespace kiln::elf;

namespace {

void put16(std::vector<uint8_t>& b, size_t off, uint16_t v) { memcpy(&b[off], &v, 2); }
void put32(std::vector<uint8_t>& b, size_t off, uint32_t v) { memcpy(&b[off], &v, 4); }
void put64(std::vector<uint8_t>& b, size_t off, uint64_t v) { memcpy(&b[off], &v, 8); }

// A note blob: namesz, descsz, type, name + NUL padded to 4, desc padded to 4.
std::vector<uint8_t> note(const std::string& name, uint32_t type, std::vector<uint8_t> desc) {
    std::vector<uint8_t> n(12);
    put32(n, 0, name.size() + 1);
    put32(n, 4, desc.size());
    put32(n, 8, type);
    n.insert(n.end(), name.begin(), name.end());
    n.push_back(0);
    while (n.size() % 4) n.push_back(0);
    n.insert(n.end(), desc.begin(), desc.end());
    while (n.size() % 4) n.push_back(0);
    return n;
}

// A valid ET_EXEC with one PT_LOAD (code) and one PT_NOTE (notes).
struct Image {
    std::vector<uint8_t> bytes;
    static constexpr size_t kPhoff = 64;
    static constexpr size_t kLoadOff = 0x100;

    explicit Image(std::vector<uint8_t> notes = note("Kiln", 1, {0, 0, 0x10, 0, 0, 0, 0, 0})) {
        bytes.assign(kLoadOff + 16 + notes.size(), 0);
        const uint8_t ident[] = {0x7f, 'E', 'L', 'F', 2, 1, 1};
        memcpy(bytes.data(), ident, sizeof(ident));
        put16(bytes, 16, kTypeExec);
        put16(bytes, 18, kMachineX86_64);
        put32(bytes, 20, 1);
        put64(bytes, 24, 0x100000);
        put64(bytes, 32, kPhoff);
        put16(bytes, 52, 64);
        put16(bytes, 54, 56);
        put16(bytes, 56, 2);
        phdr(0, kPtLoad, kLoadOff, 0x100000, 16, 0x2000);
        phdr(1, kPtNote, kLoadOff + 16, 0, notes.size(), notes.size());
        memcpy(&bytes[kLoadOff + 16], notes.data(), notes.size());
    }
    void phdr(int i, uint32_t type, uint64_t off, uint64_t addr, uint64_t filesz, uint64_t memsz) {
        size_t p = kPhoff + 56 * i;
        put32(bytes, p, type);
        put32(bytes, p + 4, kPfR | kPfX);
        put64(bytes, p + 8, off);
        put64(bytes, p + 16, addr);
        put64(bytes, p + 24, addr);
        put64(bytes, p + 32, filesz);
        put64(bytes, p + 40, memsz);
        put64(bytes, p + 48, type == kPtNote ? 4 : 0x1000);
    }
    Bytes span() const { return Bytes(bytes.data(), bytes.size()); }
};

// kiln::Errno values are Linux's, and <errno.h> (pulled in by gtest) defines
// the same names as macros, so tests compare plain ints.
int code(Errno e) { return static_cast<int>(e); }

int parse_error(const Image& img) {
    auto r = ElfFile::parse(img.span());
    EXPECT_FALSE(r.ok());
    return r.ok() ? 0 : code(r.error());
}

TEST(Elf, ParsesValidImage) {
    Image img;
    auto r = ElfFile::parse(img.span());
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r->type(), kTypeExec);
    EXPECT_EQ(r->entry(), 0x100000u);
    ASSERT_EQ(r->phdr_count(), 2u);
    ProgramHeader load = r->phdr(0);
    EXPECT_EQ(load.type, kPtLoad);
    EXPECT_EQ(load.paddr, 0x100000u);
    EXPECT_EQ(load.filesz, 16u);
    EXPECT_EQ(load.memsz, 0x2000u);
    EXPECT_EQ(r->file_bytes(load).data(), img.bytes.data() + Image::kLoadOff);
}

// A loader reads only the headers: segments are checked against the file's
// size, the program header table must be in the bytes at hand.
TEST(Elf, ParsesHeadersWithoutTheWholeFile) {
    Image img;
    const size_t head = Image::kPhoff + 2 * 56;
    auto r = ElfFile::parse_headers(img.span().subspan(0, head), img.bytes.size());
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r->phdr_offset(), Image::kPhoff);
    EXPECT_EQ(r->phdr(0).filesz, 16u);
    // A segment past the end of the file is still caught.
    img.phdr(0, kPtLoad, Image::kLoadOff, 0x100000, img.bytes.size(), 0x2000);
    auto past = ElfFile::parse_headers(img.span().subspan(0, head), img.bytes.size());
    ASSERT_FALSE(past.ok());
    EXPECT_EQ(code(past.error()), code(Errno::kENOEXEC));
    // The table itself must be in the head; a head longer than the file is a lie.
    EXPECT_FALSE(ElfFile::parse_headers(img.span().subspan(0, head - 1), img.bytes.size()).ok());
    EXPECT_FALSE(ElfFile::parse_headers(img.span(), img.bytes.size() - 1).ok());
}

TEST(Elf, FindsNote) {
    Image img;
    auto r = ElfFile::parse(img.span());
    ASSERT_TRUE(r.ok());
    auto n = r->find_note("Kiln", 1);
    ASSERT_TRUE(n.ok());
    EXPECT_TRUE(n->name_is("Kiln"));
    EXPECT_FALSE(n->name_is("Kil"));
    EXPECT_FALSE(n->name_is("Kilns"));
    ASSERT_EQ(n->desc.size(), 8u);
    EXPECT_EQ(n->desc[2], 0x10);
    EXPECT_EQ(code(r->find_note("Xen", 18).error()), ENOENT);
    EXPECT_EQ(code(r->find_note("Kiln", 2).error()), ENOENT);
}

TEST(Elf, IteratesSeveralNotes) {
    auto a = note("GNU", 3, {1, 2, 3, 4, 5});
    auto b = note("Xen", 18, {0x34, 0x12, 0, 0});
    a.insert(a.end(), b.begin(), b.end());
    Image img(a);
    auto r = ElfFile::parse(img.span());
    ASSERT_TRUE(r.ok());
    auto n = r->find_note("Xen", 18);
    ASSERT_TRUE(n.ok());
    ASSERT_EQ(n->desc.size(), 4u);
    EXPECT_EQ(n->desc[0], 0x34);

    NoteReader reader(r->file_bytes(r->phdr(1)), 4);
    Note out;
    int count = 0;
    for (;;) {
        auto more = reader.next(&out);
        ASSERT_TRUE(more.ok());
        if (!*more) break;
        ++count;
    }
    EXPECT_EQ(count, 2);
}

TEST(Elf, RejectsTruncatedFiles) {
    Image img;
    for (size_t n : {0, 1, 4, 16, 63}) {
        auto r = ElfFile::parse(Bytes(img.bytes.data(), n));
        EXPECT_FALSE(r.ok()) << n;
    }
    // Header intact but the program header table cut off.
    auto r = ElfFile::parse(Bytes(img.bytes.data(), 64 + 56 + 10));
    EXPECT_EQ(code(r.error()), ENOEXEC);
    // Table intact but a segment's bytes cut off.
    auto r2 = ElfFile::parse(Bytes(img.bytes.data(), Image::kLoadOff + 8));
    EXPECT_EQ(code(r2.error()), ENOEXEC);
}

TEST(Elf, RejectsBadMagic) {
    Image img;
    img.bytes[1] = 'X';
    EXPECT_EQ(parse_error(img), ENOEXEC);
}

TEST(Elf, RejectsWrongClassDataMachineType) {
    Image a;
    a.bytes[4] = 1;  // ELFCLASS32
    EXPECT_EQ(parse_error(a), ENOEXEC);
    Image b;
    b.bytes[5] = 2;  // big-endian
    EXPECT_EQ(parse_error(b), ENOEXEC);
    Image c;
    put16(c.bytes, 18, 183);  // EM_AARCH64
    EXPECT_EQ(parse_error(c), ENOEXEC);
    Image d;
    put16(d.bytes, 16, 1);  // ET_REL
    EXPECT_EQ(parse_error(d), ENOEXEC);
    Image e;
    put16(e.bytes, 16, kTypeDyn);
    EXPECT_TRUE(ElfFile::parse(e.span()).ok());
}

TEST(Elf, RejectsPhdrTableOutOfRange) {
    Image a;
    put64(a.bytes, 32, a.bytes.size() - 56 + 1);
    EXPECT_EQ(parse_error(a), ENOEXEC);
    Image b;
    put64(b.bytes, 32, ~0ull - 8);  // phoff + size overflows
    EXPECT_EQ(parse_error(b), ENOEXEC);
    Image c;
    put16(c.bytes, 56, 0xfff0);  // far more headers than the file holds
    EXPECT_EQ(parse_error(c), ENOEXEC);
    Image d;
    put16(d.bytes, 54, 32);  // wrong phentsize
    EXPECT_EQ(parse_error(d), ENOEXEC);
    Image e;
    put16(e.bytes, 56, 0xffff);  // PN_XNUM
    EXPECT_EQ(parse_error(e), ENOEXEC);
}

TEST(Elf, RejectsOverflowingSegments) {
    Image a;
    a.phdr(0, kPtLoad, ~0ull - 4, 0x100000, 16, 16);  // p_offset + p_filesz wraps
    EXPECT_EQ(parse_error(a), ENOEXEC);
    Image b;
    b.phdr(0, kPtLoad, Image::kLoadOff, 0x100000, ~0ull, ~0ull);
    EXPECT_EQ(parse_error(b), ENOEXEC);
    Image c;
    c.phdr(0, kPtLoad, Image::kLoadOff, ~0ull - 0x10, 16, 0x100);  // vaddr + memsz wraps
    EXPECT_EQ(parse_error(c), ENOEXEC);
    Image d;
    d.phdr(0, kPtLoad, Image::kLoadOff, 0x100000, 16, 8);  // filesz > memsz
    EXPECT_EQ(parse_error(d), ENOEXEC);
}

TEST(Elf, RejectsNotesWithBadSizes) {
    // namesz runs past the segment.
    auto a = note("Kiln", 1, {1, 2, 3, 4, 5, 6, 7, 8});
    put32(a, 0, 1000);
    auto ra = ElfFile::parse(Image(a).span());
    ASSERT_TRUE(ra.ok());
    EXPECT_EQ(code(ra->find_note("Kiln", 1).error()), ENOEXEC);
    // descsz runs past the segment.
    auto b = note("Kiln", 1, {1, 2, 3, 4, 5, 6, 7, 8});
    put32(b, 4, 9);
    Image ib(b);
    auto rb = ElfFile::parse(ib.span());
    ASSERT_TRUE(rb.ok());
    EXPECT_EQ(code(rb->find_note("Kiln", 1).error()), ENOEXEC);
    // Sizes that overflow when padded.
    auto c = note("Kiln", 1, {});
    put32(c, 4, 0xffffffff);
    auto rc = ElfFile::parse(Image(c).span());
    ASSERT_TRUE(rc.ok());
    EXPECT_EQ(code(rc->find_note("Kiln", 1).error()), ENOEXEC);
    // A note header cut short.
    std::vector<uint8_t> d(8, 0);
    auto rd = ElfFile::parse(Image(d).span());
    ASSERT_TRUE(rd.ok());
    EXPECT_EQ(code(rd->find_note("Kiln", 1).error()), ENOEXEC);
}

TEST(Elf, ReaderHandlesEmptyNameAndUnpaddedTail) {
    std::vector<uint8_t> n(12 + 3, 0);
    put32(n, 0, 0);
    put32(n, 4, 3);
    put32(n, 8, 7);
    n[12] = 0xaa;
    NoteReader reader(Bytes(n.data(), n.size()), 4);
    Note out;
    auto r = reader.next(&out);
    ASSERT_TRUE(r.ok());
    ASSERT_TRUE(*r);
    EXPECT_EQ(out.name.size(), 0u);
    EXPECT_EQ(out.type, 7u);
    ASSERT_EQ(out.desc.size(), 3u);
    EXPECT_EQ(out.desc[0], 0xaa);
    auto end = reader.next(&out);
    ASSERT_TRUE(end.ok());
    EXPECT_FALSE(*end);
}

// ---- PT_INTERP and the dynamic section ------------------------------------

// A shared-object-like ET_DYN: one PT_LOAD mapping the whole file at
// kBase, a PT_INTERP and a PT_DYNAMIC whose string table lies in the load.
struct DynImage {
    static constexpr uint64_t kBase = 0x400000;
    static constexpr size_t kInterpOff = 0x100;
    static constexpr size_t kStrOff = 0x140;
    static constexpr size_t kDynOff = 0x200;
    static constexpr char kStrings[] = "\0libc.so.6\0libm.so.6\0$ORIGIN/../lib\0/opt/lib\0soname.so";
    std::vector<uint8_t> bytes;
    std::vector<std::pair<int64_t, uint64_t>> dyn;

    DynImage() {
        dyn = {{kDtNeeded, 1},        {kDtNeeded, 11},          {kDtRunpath, 21},
               {kDtRpath, 36},        {kDtSoname, 45},          {kDtStrtab, kBase + kStrOff},
               {kDtStrsz, sizeof(kStrings)}, {kDtNull, 0}};
        build("/lib64/ld-linux-x86-64.so.2");
    }
    void build(const std::string& interp) {
        bytes.assign(kDynOff + dyn.size() * 16, 0);
        const uint8_t ident[] = {0x7f, 'E', 'L', 'F', 2, 1, 1};
        memcpy(bytes.data(), ident, sizeof(ident));
        put16(bytes, 16, kTypeDyn);
        put16(bytes, 18, kMachineX86_64);
        put32(bytes, 20, 1);
        put64(bytes, 32, 64);
        put16(bytes, 52, 64);
        put16(bytes, 54, 56);
        put16(bytes, 56, 3);
        phdr(0, kPtLoad, 0, kBase, bytes.size());
        phdr(1, kPtInterp, kInterpOff, kBase + kInterpOff, interp.size() + 1);
        phdr(2, kPtDynamic, kDynOff, kBase + kDynOff, dyn.size() * 16);
        memcpy(&bytes[kInterpOff], interp.data(), interp.size());
        memcpy(&bytes[kStrOff], kStrings, sizeof(kStrings));
        for (size_t i = 0; i < dyn.size(); ++i) {
            put64(bytes, kDynOff + 16 * i, dyn[i].first);
            put64(bytes, kDynOff + 16 * i + 8, dyn[i].second);
        }
    }
    void phdr(int i, uint32_t type, uint64_t off, uint64_t addr, uint64_t size) {
        size_t p = 64 + 56 * i;
        put32(bytes, p, type);
        put32(bytes, p + 4, kPfR);
        put64(bytes, p + 8, off);
        put64(bytes, p + 16, addr);
        put64(bytes, p + 24, addr);
        put64(bytes, p + 32, size);
        put64(bytes, p + 40, size);
        put64(bytes, p + 48, 8);
    }
    Bytes span() const { return Bytes(bytes.data(), bytes.size()); }
};

std::string str(Bytes b) { return std::string(reinterpret_cast<const char*>(b.data()), b.size()); }

TEST(ElfDynamic, ReadsInterpNeededRunpathRpathSoname) {
    DynImage img;
    auto elf = ElfFile::parse(img.span());
    ASSERT_TRUE(elf.ok());
    auto interp = elf->interp();
    ASSERT_TRUE(interp.ok());
    EXPECT_EQ(str(*interp), "/lib64/ld-linux-x86-64.so.2");

    auto dyn = DynamicSection::parse(*elf);
    ASSERT_TRUE(dyn.ok());
    EXPECT_EQ(dyn->count(), 7u);  // DT_NULL ends the table
    std::vector<std::string> needed;
    for (size_t i = 0; i < dyn->count(); ++i) {
        DynEntry e = dyn->entry(i);
        if (e.tag != kDtNeeded) continue;
        auto s = dyn->string(e.value);
        ASSERT_TRUE(s.ok());
        needed.push_back(str(*s));
    }
    EXPECT_EQ(needed, (std::vector<std::string>{"libc.so.6", "libm.so.6"}));
    EXPECT_EQ(str(*dyn->string_of(kDtRunpath)), "$ORIGIN/../lib");
    EXPECT_EQ(str(*dyn->string_of(kDtRpath)), "/opt/lib");
    EXPECT_EQ(str(*dyn->string_of(kDtSoname)), "soname.so");
    EXPECT_EQ(code(dyn->string_of(42).error()), ENOENT);
    EXPECT_EQ(str(*dyn->string(0)), "");
}

TEST(ElfDynamic, StaticExecutableHasNone) {
    Image img;  // PT_LOAD and PT_NOTE only
    auto elf = ElfFile::parse(img.span());
    ASSERT_TRUE(elf.ok());
    EXPECT_EQ(code(elf->interp().error()), ENOENT);
    EXPECT_EQ(code(DynamicSection::parse(*elf).error()), ENOENT);
}

TEST(ElfDynamic, RejectsBadInterp) {
    DynImage a;
    a.bytes[DynImage::kInterpOff + 27] = 'x';  // no NUL at the end
    EXPECT_EQ(code(ElfFile::parse(a.span())->interp().error()), ENOEXEC);
    DynImage b;
    b.build("");  // just a NUL
    EXPECT_EQ(code(ElfFile::parse(b.span())->interp().error()), ENOEXEC);
}

TEST(ElfDynamic, RejectsStringsOutsideTheTable) {
    DynImage img;
    auto dyn = DynamicSection::parse(*ElfFile::parse(img.span()));
    ASSERT_TRUE(dyn.ok());
    EXPECT_EQ(code(dyn->string(sizeof(DynImage::kStrings)).error()), ENOEXEC);
    EXPECT_EQ(code(dyn->string(~0ull).error()), ENOEXEC);
    // The last string loses its NUL when DT_STRSZ is one short.
    DynImage cut;
    cut.dyn[6].second = sizeof(DynImage::kStrings) - 1;
    cut.build("/ld.so");
    auto dcut = DynamicSection::parse(*ElfFile::parse(cut.span()));
    ASSERT_TRUE(dcut.ok());
    EXPECT_EQ(code(dcut->string_of(kDtSoname).error()), ENOEXEC);
    EXPECT_TRUE(dcut->string_of(kDtRpath).ok());
}

TEST(ElfDynamic, RejectsStringTableOutsideTheLoads) {
    DynImage a;
    a.dyn[5].second = 0x10;  // DT_STRTAB below every PT_LOAD
    a.build("/ld.so");
    EXPECT_EQ(code(DynamicSection::parse(*ElfFile::parse(a.span())).error()), ENOEXEC);
    DynImage b;
    b.dyn[6].second = ~0ull;  // DT_STRSZ far past the file
    b.build("/ld.so");
    EXPECT_EQ(code(DynamicSection::parse(*ElfFile::parse(b.span())).error()), ENOEXEC);
    DynImage c;
    c.dyn[5].second = ~0ull - 4;  // vaddr + size wraps
    c.build("/ld.so");
    EXPECT_EQ(code(DynamicSection::parse(*ElfFile::parse(c.span())).error()), ENOEXEC);
    DynImage d;
    d.dyn.erase(d.dyn.begin() + 6);  // DT_STRTAB without DT_STRSZ
    d.build("/ld.so");
    EXPECT_EQ(code(DynamicSection::parse(*ElfFile::parse(d.span())).error()), ENOEXEC);
}

TEST(ElfDynamic, TableWithoutNullEndsWithItsSegment) {
    DynImage img;
    img.dyn.back() = {kDtNeeded, 1};  // in place of DT_NULL
    img.build("/ld.so");
    auto dyn = DynamicSection::parse(*ElfFile::parse(img.span()));
    ASSERT_TRUE(dyn.ok());
    EXPECT_EQ(dyn->count(), 8u);
    // A truncated last entry is not an entry.
    put64(img.bytes, 64 + 56 * 2 + 32, 8 * 16 - 3);
    auto dyn2 = DynamicSection::parse(*ElfFile::parse(img.span()));
    ASSERT_TRUE(dyn2.ok());
    EXPECT_EQ(dyn2->count(), 7u);
}

TEST(ElfDynamic, RejectsTwoDynamicSegments) {
    DynImage img;
    img.phdr(1, kPtDynamic, DynImage::kDynOff, DynImage::kBase + DynImage::kDynOff, 16);
    EXPECT_EQ(code(DynamicSection::parse(*ElfFile::parse(img.span())).error()), ENOEXEC);
}

// This test binary itself is a dynamic executable built by the host
// toolchain: its interpreter and libc must be found.
TEST(ElfDynamic, ReadsThisTestBinary) {
    std::ifstream f("/proc/self/exe", std::ios::binary);
    std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(f)), {});
    auto elf = ElfFile::parse(Bytes(bytes.data(), bytes.size()));
    ASSERT_TRUE(elf.ok());
    auto interp = elf->interp();
    ASSERT_TRUE(interp.ok());
    EXPECT_NE(str(*interp).find("ld-linux-x86-64.so.2"), std::string::npos);
    auto dyn = DynamicSection::parse(*elf);
    ASSERT_TRUE(dyn.ok());
    bool libc = false;
    for (size_t i = 0; i < dyn->count(); ++i) {
        DynEntry e = dyn->entry(i);
        if (e.tag == kDtNeeded) libc |= str(*dyn->string(e.value)) == "libc.so.6";
    }
    EXPECT_TRUE(libc);
}

}  // namespace
