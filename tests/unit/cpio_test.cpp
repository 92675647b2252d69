// lib/kiln/cpio: the newc reader over hand-made archives (cpio(5), "New
// ASCII Format"), well-formed and hostile.
#include "kiln/cpio.h"

#include <gtest/gtest.h>
#include <stdio.h>

#include <string>

using kiln::Bytes;
using kiln::Errno;
using kiln::cpio::Entry;
using kiln::cpio::Reader;

namespace {

std::string pad4(std::string s) {
    while (s.size() % 4 != 0) s.push_back('\0');
    return s;
}

// One newc member: header, name + NUL padded, data padded.
std::string member(const std::string& name, uint32_t mode, const std::string& data,
                   uint32_t ino = 1, uint32_t nlink = 1, const char* magic = "070701") {
    char hdr[111];
    snprintf(hdr, sizeof hdr, "%s%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X", magic, ino,
             mode, 0u, 0u, nlink, 1700000000u, static_cast<uint32_t>(data.size()), 0u, 0u, 0u, 0u,
             static_cast<uint32_t>(name.size() + 1), 0u);
    std::string s(hdr, 110);
    s += name;
    s.push_back('\0');
    return pad4(s) + pad4(data);
}

std::string trailer() { return member("TRAILER!!!", 0, "", 0, 1); }

Bytes bytes(const std::string& s) {
    return Bytes(reinterpret_cast<const uint8_t*>(s.data()), s.size());
}

std::string name_of(const Entry& e) { return std::string(e.name.data(), e.name.size()); }
std::string data_of(const Entry& e) {
    return std::string(reinterpret_cast<const char*>(e.data.data()), e.data.size());
}

}  // namespace

TEST(Cpio, ReadsEntriesUntilTrailer) {
    std::string a = member("etc", 040755, "") + member("etc/hostname", 0100644, "kiln\n", 2) +
                    member("bin/sh", 0120777, "busybox", 3) + trailer() + member("after", 0100644, "x");
    Reader r(bytes(a));
    Entry e;
    ASSERT_TRUE(r.next(&e).value());
    EXPECT_EQ(name_of(e), "etc");
    EXPECT_EQ(e.mode, 040755u);
    EXPECT_EQ(e.data.size(), 0u);
    ASSERT_TRUE(r.next(&e).value());
    EXPECT_EQ(name_of(e), "etc/hostname");
    EXPECT_EQ(data_of(e), "kiln\n");
    EXPECT_EQ(e.ino, 2u);
    EXPECT_EQ(e.mtime, 1700000000u);
    ASSERT_TRUE(r.next(&e).value());
    EXPECT_EQ(name_of(e), "bin/sh");
    EXPECT_EQ(data_of(e), "busybox");
    auto end = r.next(&e);
    ASSERT_TRUE(end.ok());
    EXPECT_FALSE(end.value());
    EXPECT_FALSE(r.next(&e).value());
    // A concatenated archive starts right after the trailer.
    EXPECT_EQ(r.offset(), a.size() - member("after", 0100644, "x").size());
}

TEST(Cpio, PaddingForEveryNameAndDataLength) {
    for (size_t nl = 1; nl <= 6; nl++) {
        for (size_t dl = 0; dl <= 5; dl++) {
            std::string a = member(std::string(nl, 'n'), 0100644, std::string(dl, 'd')) +
                            member("z", 0100600, "zz") + trailer();
            Reader r(bytes(a));
            Entry e;
            ASSERT_TRUE(r.next(&e).value()) << nl << " " << dl;
            EXPECT_EQ(e.name.size(), nl);
            EXPECT_EQ(data_of(e), std::string(dl, 'd'));
            ASSERT_TRUE(r.next(&e).value());
            EXPECT_EQ(name_of(e), "z");
            EXPECT_EQ(data_of(e), "zz");
            EXPECT_FALSE(r.next(&e).value());
        }
    }
}

TEST(Cpio, AcceptsCrcMagicAndLowercaseHex) {
    std::string m = member("f", 0100644, "abc", 0xab, 1, "070702");
    m[6 + 7] = 'b';  // ino 0x000000ab, lower-case digit
    Reader r(bytes(m));
    Entry e;
    ASSERT_TRUE(r.next(&e).value());
    EXPECT_EQ(e.ino, 0xabu);
    EXPECT_EQ(data_of(e), "abc");
    EXPECT_FALSE(r.next(&e).value());  // ends between entries without a trailer
}

TEST(Cpio, EmptyArchiveHasNoEntries) {
    Reader r(Bytes{});
    Entry e;
    auto n = r.next(&e);
    ASSERT_TRUE(n.ok());
    EXPECT_FALSE(n.value());
}

TEST(Cpio, SkipPaddingBetweenArchives) {
    std::string a = trailer() + std::string(8, '\0') + member("x", 0100644, "");
    Reader r(bytes(a));
    Entry e;
    EXPECT_FALSE(r.next(&e).value());
    size_t next = kiln::cpio::skip_padding(bytes(a), r.offset());
    Reader r2(bytes(a).subspan(next));
    ASSERT_TRUE(r2.next(&e).value());
    EXPECT_EQ(name_of(e), "x");
    EXPECT_EQ(kiln::cpio::skip_padding(bytes(std::string(5, '\0')), 0), 5u);
}

namespace {
void expect_malformed(const std::string& a) {
    Reader r(bytes(a));
    Entry e;
    auto n = r.next(&e);
    ASSERT_FALSE(n.ok());
    EXPECT_EQ(n.error(), Errno::kEINVAL);
    EXPECT_FALSE(r.next(&e).ok());  // stays failed
}
}  // namespace

TEST(Cpio, RejectsMalformedArchives) {
    std::string good = member("file", 0100644, "hello");
    expect_malformed("07070");                              // short header
    expect_malformed(good.substr(0, 109));                  // header cut
    expect_malformed("070707" + good.substr(6));            // odc magic
    expect_malformed("x" + good.substr(1));                 // bad magic
    {
        std::string m = good;
        m[6 + 8 + 3] = 'g';  // non-hex digit in mode
        expect_malformed(m);
    }
    {
        std::string m = good;
        m[110 + 4] = 'x';  // name's NUL missing
        expect_malformed(m);
    }
    {
        std::string m = good;
        m[110 + 1] = '\0';  // NUL inside the name
        expect_malformed(m);
    }
    expect_malformed(good.substr(0, 112));                  // name cut
    expect_malformed(good.substr(0, good.size() - 4));      // data cut
    {
        std::string m = member("f", 0100644, "");
        m.replace(6 + 8 * 6, 8, "FFFFFFFF");  // filesize far past the end
        expect_malformed(m);
    }
    {
        std::string m = member("f", 0100644, "");
        m.replace(6 + 8 * 11, 8, "FFFFFFFF");  // namesize far past the end
        expect_malformed(m);
    }
    {
        std::string m = member("f", 0100644, "");
        m.replace(6 + 8 * 11, 8, "00000001");  // empty name (just the NUL)
        expect_malformed(m);
    }
}

TEST(Cpio, LastEntryMayLackDataPadding) {
    std::string m = member("f", 0100644, "abcde");
    m.resize(m.size() - 3);  // cut right after the data
    Reader r(bytes(m));
    Entry e;
    ASSERT_TRUE(r.next(&e).value());
    EXPECT_EQ(data_of(e), "abcde");
    EXPECT_FALSE(r.next(&e).value());
}
