#include "kiln/format.h"

#include <gtest/gtest.h>
#include <stdint.h>
#include <stdio.h>

#include <string>

// The tests pass the odd formats on purpose (flag combinations C says to
// ignore, null strings, empty formats) to pin down what the kernel prints.
#pragma GCC diagnostic ignored "-Wformat"
#pragma GCC diagnostic ignored "-Wformat-zero-length"
#pragma GCC diagnostic ignored "-Wformat-overflow"

namespace {

using kiln::format;

std::string fmt(const char* f, ...) __attribute__((format(printf, 1, 2)));
std::string fmt(const char* f, ...) {
    char buf[512];
    va_list ap;
    va_start(ap, f);
    size_t n = kiln::vformat(buf, sizeof(buf), f, ap);
    va_end(ap);
    EXPECT_EQ(n, strlen(buf));
    return buf;
}

std::string libc(const char* f, ...) __attribute__((format(printf, 1, 2)));
std::string libc(const char* f, ...) {
    char buf[512];
    va_list ap;
    va_start(ap, f);
    vsnprintf(buf, sizeof(buf), f, ap);
    va_end(ap);
    return buf;
}

// Same output as the C library for the conversions both support.
#define EXPECT_LIKE_LIBC(...) EXPECT_EQ(fmt(__VA_ARGS__), libc(__VA_ARGS__))

TEST(Format, PlainTextAndPercent) {
    EXPECT_EQ(fmt("hello"), "hello");
    EXPECT_EQ(fmt(""), "");
    EXPECT_EQ(fmt("100%%"), "100%");
    EXPECT_EQ(fmt("%%%d%%", 5), "%5%");
}

TEST(Format, Strings) {
    EXPECT_LIKE_LIBC("[%s]", "abc");
    EXPECT_LIKE_LIBC("[%5s]", "abc");
    EXPECT_LIKE_LIBC("[%-5s]", "abc");
    EXPECT_LIKE_LIBC("[%.2s]", "abc");
    EXPECT_LIKE_LIBC("[%.0s]", "abc");
    EXPECT_LIKE_LIBC("[%6.2s]", "abc");
    EXPECT_LIKE_LIBC("[%-6.2s]", "abc");
    EXPECT_LIKE_LIBC("[%.10s]", "abc");
    EXPECT_LIKE_LIBC("[%*s]", 4, "x");
    EXPECT_LIKE_LIBC("[%-*s]", 4, "x");
    EXPECT_LIKE_LIBC("[%*s]", -4, "x");
    EXPECT_LIKE_LIBC("[%.*s]", 2, "xyz");
    EXPECT_LIKE_LIBC("[%.*s]", -1, "xyz");
    EXPECT_EQ(fmt("%s", static_cast<const char*>(nullptr)), "(null)");
    EXPECT_EQ(fmt("[%8s]", static_cast<const char*>(nullptr)), "[  (null)]");
}

TEST(Format, PrecisionStopsReadingString) {
    // Precision bounds the read: the bytes need not be NUL-terminated.
    char not_terminated[3] = {'a', 'b', 'c'};
    EXPECT_EQ(fmt("%.3s", not_terminated), "abc");
}

TEST(Format, Chars) {
    EXPECT_LIKE_LIBC("%c%c", 'o', 'k');
    EXPECT_LIKE_LIBC("[%3c]", 'x');
    EXPECT_LIKE_LIBC("[%-3c]", 'x');
}

TEST(Format, SignedIntegers) {
    EXPECT_LIKE_LIBC("%d", 0);
    EXPECT_LIKE_LIBC("%d %i", 42, -42);
    EXPECT_LIKE_LIBC("%d", INT32_MIN);
    EXPECT_LIKE_LIBC("%d", INT32_MAX);
    EXPECT_LIKE_LIBC("%ld", static_cast<long>(INT64_MIN));
    EXPECT_LIKE_LIBC("%lld", static_cast<long long>(INT64_MAX));
    EXPECT_LIKE_LIBC("%lli", static_cast<long long>(INT64_MIN));
    EXPECT_LIKE_LIBC("%zd", static_cast<ssize_t>(-7));
    EXPECT_LIKE_LIBC("[%5d]", -42);
    EXPECT_LIKE_LIBC("[%-5d]", -42);
    EXPECT_LIKE_LIBC("[%05d]", -42);
    EXPECT_LIKE_LIBC("[%05d]", 42);
    EXPECT_LIKE_LIBC("[%-05d]", 42);
    EXPECT_LIKE_LIBC("[%.3d]", 7);
    EXPECT_LIKE_LIBC("[%.3d]", -7);
    EXPECT_LIKE_LIBC("[%6.3d]", -7);
    EXPECT_LIKE_LIBC("[%06.3d]", 7);
    EXPECT_LIKE_LIBC("[%.0d]", 0);
    EXPECT_LIKE_LIBC("[%3.0d]", 0);
    EXPECT_LIKE_LIBC("%hd", 70000);
    EXPECT_LIKE_LIBC("%hhd", 300);
}

TEST(Format, UnsignedAndHex) {
    EXPECT_LIKE_LIBC("%u", 0u);
    EXPECT_LIKE_LIBC("%u", UINT32_MAX);
    EXPECT_LIKE_LIBC("%lu", static_cast<unsigned long>(UINT64_MAX));
    EXPECT_LIKE_LIBC("%llu", static_cast<unsigned long long>(UINT64_MAX));
    EXPECT_LIKE_LIBC("%zu", static_cast<size_t>(123456789));
    EXPECT_LIKE_LIBC("%x %X", 0xdeadbeefu, 0xdeadbeefu);
    EXPECT_LIKE_LIBC("%lx", 0xffffffff80001000ul);
    EXPECT_LIKE_LIBC("%llX", 0x0123456789abcdefull);
    EXPECT_LIKE_LIBC("%zx", static_cast<size_t>(0x1000));
    EXPECT_LIKE_LIBC("[%016lx]", 0xabcul);
    EXPECT_LIKE_LIBC("[%-8x]", 0xabcu);
    EXPECT_LIKE_LIBC("[%8.4x]", 0xau);
    EXPECT_LIKE_LIBC("%x", 0u);
    EXPECT_LIKE_LIBC("%hx", 0x12345u);
    EXPECT_LIKE_LIBC("%hhx", 0x1ffu);
    EXPECT_LIKE_LIBC("%hhu", 0x1ffu);
}

TEST(Format, Pointers) {
    EXPECT_EQ(fmt("%p", reinterpret_cast<void*>(0xffffffff80001234ul)), "0xffffffff80001234");
    EXPECT_EQ(fmt("%p", reinterpret_cast<void*>(0x10)), "0x10");
    // Unlike glibc's "(nil)": crash reports read better with a number.
    EXPECT_EQ(fmt("%p", nullptr), "0x0");
    EXPECT_EQ(fmt("[%8p]", reinterpret_cast<void*>(0xab)), "[    0xab]");
    EXPECT_EQ(fmt("[%-8p]", reinterpret_cast<void*>(0xab)), "[0xab    ]");
    EXPECT_EQ(fmt("[%08p]", reinterpret_cast<void*>(0xab)), "[0x0000ab]");
}

TEST(Format, UnknownAndTruncatedConversions) {
    // Not checked by the compiler, hence built at run time.
    const char* unknown = "a%qb";
    const char* trailing = "end%";
    const char* trailing_flags = "end%-5";
    char buf[32];
    EXPECT_EQ(format(buf, sizeof(buf), unknown), 4u);
    EXPECT_STREQ(buf, "a%qb");
    EXPECT_EQ(format(buf, sizeof(buf), trailing), 4u);
    EXPECT_STREQ(buf, "end%");
    EXPECT_EQ(format(buf, sizeof(buf), trailing_flags), 6u);
    EXPECT_STREQ(buf, "end%-5");
}

TEST(Format, MixedArgumentsKeepTheirOrder) {
    EXPECT_LIKE_LIBC("%s=%d (%#x)%c %lu %s", "rax", -1, 255u, '!', 99ul, "end");
    EXPECT_LIKE_LIBC("[%#x] [%#X] [%#010x] [%#x]", 0xabu, 0xabu, 0xabu, 0u);
}

TEST(Format, TruncatesAndReportsFullLength) {
    char buf[8];
    memset(buf, 'X', sizeof(buf));
    EXPECT_EQ(format(buf, sizeof(buf), "%s-%d", "abcdef", 12345), 12u);
    EXPECT_STREQ(buf, "abcdef-");
    EXPECT_EQ(format(buf, 1, "hello"), 5u);
    EXPECT_EQ(buf[0], '\0');
    // cap 0: nothing written, not even the NUL.
    buf[0] = 'Z';
    EXPECT_EQ(format(buf, 0, "hello %d", 1), 7u);
    EXPECT_EQ(buf[0], 'Z');
    EXPECT_EQ(format(nullptr, 0, "%08x", 1u), 8u);
    // Exactly fitting output keeps its last character.
    EXPECT_EQ(format(buf, sizeof(buf), "1234567"), 7u);
    EXPECT_STREQ(buf, "1234567");
}

TEST(Format, LongPaddingIsStreamedInPieces) {
    char buf[256];
    EXPECT_EQ(format(buf, sizeof(buf), "[%100d]", 1), 102u);
    EXPECT_EQ(std::string(buf), libc("[%100d]", 1));
    EXPECT_EQ(format(buf, sizeof(buf), "[%-100s]", "x"), 102u);
    EXPECT_EQ(std::string(buf), libc("[%-100s]", "x"));
}

struct Collected {
    std::string text;
    int calls = 0;
    bool saw_empty = false;
};

void collect(void* ctx, const char* s, size_t n) {
    auto* c = static_cast<Collected*>(ctx);
    c->text.append(s, n);
    c->calls++;
    if (n == 0) c->saw_empty = true;
}

TEST(Format, StreamsToASink) {
    Collected c;
    kiln::format_to(collect, &c, "cpu%u: %s at %p%s", 0u, "fault", reinterpret_cast<void*>(0x1000),
                    "");
    EXPECT_EQ(c.text, "cpu0: fault at 0x1000");
    EXPECT_FALSE(c.saw_empty);
    EXPECT_GT(c.calls, 1);
}

TEST(Format, StreamHasNoSizeLimit) {
    std::string big(5000, 'k');
    Collected c;
    kiln::format_to(collect, &c, "<%s|%2000d>", big.c_str(), 7);
    EXPECT_EQ(c.text.size(), 5000u + 2000u + 3u);
    EXPECT_EQ(c.text.substr(0, 4), "<kkk");
    EXPECT_EQ(c.text.substr(c.text.size() - 3), " 7>");
}

}  // namespace
