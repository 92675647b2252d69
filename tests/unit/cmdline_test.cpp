#include "kiln/cmdline.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

using kiln::Errno;
using kiln::Span;

// <errno.h> (pulled in by gtest) defines the errno names as macros with
// Linux's values, so expected errors are written Errno(EINVAL).

namespace {

Span<const char> sp(const char* s) {
    return Span<const char>(s, strlen(s));
}
std::string str(Span<const char> s) {
    return std::string(s.data(), s.size());
}

std::string get(const char* cmdline, const char* key) {
    Span<const char> v;
    if (!kiln::cmdline_get(cmdline, key, &v)) return "<absent>";
    return str(v);
}

TEST(Cmdline, GetsValues) {
    const char* c = "console=ttyS0 init=/bin/app loglevel=7 quiet";
    EXPECT_EQ(get(c, "console"), "ttyS0");
    EXPECT_EQ(get(c, "init"), "/bin/app");
    EXPECT_EQ(get(c, "loglevel"), "7");
    EXPECT_EQ(get(c, "quiet"), "<absent>");  // bare key has no value
    EXPECT_EQ(get(c, "missing"), "<absent>");
    EXPECT_EQ(get(c, "log"), "<absent>");  // no prefix matches
    EXPECT_EQ(get(c, "loglevel7"), "<absent>");
}

TEST(Cmdline, EmptyAndNullCommandLines) {
    EXPECT_EQ(get("", "a"), "<absent>");
    EXPECT_EQ(get("   \t ", "a"), "<absent>");
    EXPECT_EQ(get(nullptr, "a"), "<absent>");
    EXPECT_FALSE(kiln::cmdline_flag(nullptr, "a"));
}

TEST(Cmdline, ValueMayBeEmptyOrHoldEquals) {
    EXPECT_EQ(get("a= b=1", "a"), "");
    EXPECT_EQ(get("env=PATH=/bin", "env"), "PATH=/bin");
}

TEST(Cmdline, LastOccurrenceWins) {
    EXPECT_EQ(get("a=1 b=2 a=3", "a"), "3");
}

TEST(Cmdline, WhitespaceOfAnyKindSeparates) {
    EXPECT_EQ(get("  a=1\tb=2\nc=3  ", "b"), "2");
    EXPECT_EQ(get("  a=1\tb=2\nc=3  ", "c"), "3");
}

TEST(Cmdline, QuotedValuesKeepSpaces) {
    const char* c = "init=/app args=\"-v --port 80\" after=1";
    EXPECT_EQ(get(c, "args"), "-v --port 80");
    EXPECT_EQ(get(c, "after"), "1");
    // Linux also accepts quotes around the whole parameter.
    EXPECT_EQ(get("\"msg=hello world\" x=y", "msg"), "hello world");
    EXPECT_EQ(get("\"msg=hello world\" x=y", "x"), "y");
    EXPECT_EQ(get("a=\"\"", "a"), "");
    // An unterminated quote runs to the end.
    EXPECT_EQ(get("a=\"open ended b=1", "a"), "open ended b=1");
}

TEST(Cmdline, DashAndUnderscoreAreTheSameInKeys) {
    EXPECT_EQ(get("virtio-mmio.device=1", "virtio_mmio.device"), "1");
    EXPECT_EQ(get("log_level=3", "log-level"), "3");
}

TEST(Cmdline, DoubleDashEndsKernelParameters) {
    const char* c = "init=/app -- init=/evil verbose";
    EXPECT_EQ(get(c, "init"), "/app");
    EXPECT_FALSE(kiln::cmdline_flag(c, "verbose"));
    // "--x" and "a--" are ordinary words.
    EXPECT_TRUE(kiln::cmdline_flag("--x", "--x"));
}

TEST(Cmdline, Flags) {
    const char* c = "quiet debug=1 trace=off strace=yes nosmp=0 x=maybe e=";
    EXPECT_TRUE(kiln::cmdline_flag(c, "quiet"));
    EXPECT_TRUE(kiln::cmdline_flag(c, "debug"));
    EXPECT_FALSE(kiln::cmdline_flag(c, "trace"));
    EXPECT_TRUE(kiln::cmdline_flag(c, "strace"));
    EXPECT_FALSE(kiln::cmdline_flag(c, "nosmp"));
    EXPECT_FALSE(kiln::cmdline_flag(c, "x"));
    EXPECT_TRUE(kiln::cmdline_flag(c, "e"));
    EXPECT_FALSE(kiln::cmdline_flag(c, "absent"));
    EXPECT_FALSE(kiln::cmdline_flag(c, "qui"));
    EXPECT_TRUE(kiln::cmdline_flag("a=ON a=TRUE", "a"));
    EXPECT_FALSE(kiln::cmdline_flag("a a=0", "a"));  // last wins
    EXPECT_TRUE(kiln::cmdline_flag("a=0 a", "a"));
}

TEST(Cmdline, ParamsIteratorYieldsEverything) {
    kiln::CmdlineParams it("a b=c \"d=e f\" =skipped g");
    kiln::CmdlineParam p;
    std::vector<std::string> seen;
    while (it.next(&p)) seen.push_back(str(p.key) + (p.has_value ? "=" + str(p.value) : ""));
    EXPECT_EQ(seen, (std::vector<std::string>{"a", "b=c", "d=e f", "g"}));
    EXPECT_FALSE(it.next(&p));
}

TEST(ParseSize, NumbersAndSuffixes) {
    EXPECT_EQ(*kiln::parse_size(sp("4096")), 4096u);
    EXPECT_EQ(*kiln::parse_size(sp("0")), 0u);
    EXPECT_EQ(*kiln::parse_size(sp("0x1000")), 0x1000u);
    EXPECT_EQ(*kiln::parse_size(sp("0XfF")), 255u);
    EXPECT_EQ(*kiln::parse_size(sp("4k")), 4096u);
    EXPECT_EQ(*kiln::parse_size(sp("4K")), 4096u);
    EXPECT_EQ(*kiln::parse_size(sp("64M")), 64ull << 20);
    EXPECT_EQ(*kiln::parse_size(sp("1G")), 1ull << 30);
    EXPECT_EQ(*kiln::parse_size(sp("2t")), 2ull << 40);
    EXPECT_EQ(*kiln::parse_size(sp("3P")), 3ull << 50);
    EXPECT_EQ(*kiln::parse_size(sp("15E")), 15ull << 60);
    EXPECT_EQ(*kiln::parse_size(sp("0x10M")), 16ull << 20);
    EXPECT_EQ(*kiln::parse_size(sp("0x1E")), 0x1eu);  // a hex digit, not exa
    EXPECT_EQ(*kiln::parse_size(sp("007")), 7u);      // decimal, not octal
    EXPECT_EQ(*kiln::parse_size(sp("18446744073709551615")), UINT64_MAX);
    EXPECT_EQ(*kiln::parse_size(sp("0xffffffffffffffff")), UINT64_MAX);
}

TEST(ParseSize, RejectsMalformedInput) {
    for (const char* bad :
         {"", "M", "0x", "x10", "12Q", "1MM", "1 M", " 1", "1.5G", "-1", "+1", "0x1g0", "1KiB"}) {
        auto r = kiln::parse_size(sp(bad));
        ASSERT_FALSE(r.ok()) << bad;
        EXPECT_EQ(r.error(), Errno(EINVAL)) << bad;
    }
}

TEST(ParseSize, RejectsOverflow) {
    for (const char* big : {"18446744073709551616", "99999999999999999999", "0x10000000000000000",
                            "16E", "16777216T", "0x400000000000G"}) {
        auto r = kiln::parse_size(sp(big));
        ASSERT_FALSE(r.ok()) << big;
        EXPECT_EQ(r.error(), Errno(ERANGE)) << big;
    }
    EXPECT_EQ(*kiln::parse_size(sp("16777215T")), 16777215ull << 40);
}

TEST(ParseU64, NoSuffixes) {
    EXPECT_EQ(*kiln::parse_u64(sp("5")), 5u);
    EXPECT_EQ(*kiln::parse_u64(sp("0x2a")), 42u);
    EXPECT_FALSE(kiln::parse_u64(sp("5K")).ok());
}

TEST(VirtioMmio, ParsesLinuxSyntax) {
    auto d = kiln::parse_virtio_mmio(sp("4K@0xd0000000:5"));
    ASSERT_TRUE(d.ok());
    EXPECT_EQ(d->size, 4096u);
    EXPECT_EQ(d->base, 0xd0000000u);
    EXPECT_EQ(d->irq, 5u);
    EXPECT_FALSE(d->has_id);
    EXPECT_EQ(d->id, 0u);

    auto e = kiln::parse_virtio_mmio(sp("0x200@0xfeb00000:12:3"));
    ASSERT_TRUE(e.ok());
    EXPECT_EQ(e->size, 0x200u);
    EXPECT_EQ(e->base, 0xfeb00000u);
    EXPECT_EQ(e->irq, 12u);
    EXPECT_TRUE(e->has_id);
    EXPECT_EQ(e->id, 3u);

    auto f = kiln::parse_virtio_mmio(sp("512@3G:0x20"));
    ASSERT_TRUE(f.ok());
    EXPECT_EQ(f->base, 3ull << 30);
    EXPECT_EQ(f->irq, 32u);
}

TEST(VirtioMmio, RejectsMalformedValues) {
    for (const char* bad :
         {"", "4K", "4K@", "4K@0x1000", "4K@0x1000:", "@0x1000:5", "4K@:5", "0@0x1000:5",
          "4K@0x1000:5:", "4K@0x1000:5:1:2", "4K@0x1000:5x", "4K 0x1000:5", "4K@0x1000:1K"}) {
        auto r = kiln::parse_virtio_mmio(sp(bad));
        ASSERT_FALSE(r.ok()) << bad;
        EXPECT_EQ(r.error(), Errno(EINVAL)) << bad;
    }
}

TEST(VirtioMmio, RejectsOverflow) {
    for (const char* big : {"4K@0xfffffffffffff001:5", "4K@0x1000:4294967296",
                            "4K@0x1000:1:4294967296", "16E@0:1", "1@0x10000000000000000:1"}) {
        auto r = kiln::parse_virtio_mmio(sp(big));
        ASSERT_FALSE(r.ok()) << big;
        EXPECT_EQ(r.error(), Errno(ERANGE)) << big;
    }
    auto top = kiln::parse_virtio_mmio(sp("4K@0xfffffffffffff000:4294967295"));
    ASSERT_TRUE(top.ok());
    EXPECT_EQ(top->irq, UINT32_MAX);
}

TEST(VirtioMmio, IteratesEveryDevice) {
    const char* c =
        "console=hvc0 virtio_mmio.device=4K@0xd0000000:5 quiet "
        "virtio-mmio.device=4K@0xd0001000:6:1 virtio_mmio.device=bogus "
        "virtio_mmio.devices=4K@0:1 virtio_mmio.device=4K@0xd0002000:7 -- "
        "virtio_mmio.device=4K@0xe0000000:9";
    std::vector<std::string> raws;
    std::vector<uint64_t> bases;
    int errors = 0;
    for (kiln::VirtioMmioDevices it(c); it.next();) {
        raws.push_back(str(it.raw()));
        auto d = it.device();
        if (d.ok()) {
            bases.push_back(d->base);
        } else {
            ++errors;
            EXPECT_EQ(d.error(), Errno(EINVAL));
        }
    }
    EXPECT_EQ(raws, (std::vector<std::string>{"4K@0xd0000000:5", "4K@0xd0001000:6:1", "bogus",
                                              "4K@0xd0002000:7"}));
    EXPECT_EQ(bases, (std::vector<uint64_t>{0xd0000000, 0xd0001000, 0xd0002000}));
    EXPECT_EQ(errors, 1);

    kiln::VirtioMmioDevices none("console=hvc0");
    EXPECT_FALSE(none.next());
    EXPECT_TRUE(none.raw().empty());
}

}  // namespace
