// kernel/loader/stack: the initial stack of the System V x86-64 psABI
// (§3.4.1, Figure 3.9) as the loader lays it out, read back the way a libc
// start-up routine walks it.
#include "loader/stack.h"

#include <gtest/gtest.h>
#include <linux/auxvec.h>

#include <cstring>
#include <map>
#include <string>
#include <vector>

using namespace kiln::loader;
using kiln::Errno;

namespace {

constexpr uint64_t kTop = 0x7ffffffff000ull;

struct Laid {
    std::vector<uint8_t> buf;
    StackLayout layout;
    uint64_t word(uint64_t addr) const {
        uint64_t v;
        memcpy(&v, &buf[buf.size() - (kTop - addr)], 8);
        return v;
    }
    std::string str(uint64_t addr) const {
        return std::string(reinterpret_cast<const char*>(&buf[buf.size() - (kTop - addr)]));
    }
    bool inside(uint64_t addr) const { return addr >= layout.rsp && addr < kTop; }
};

Laid lay(const StackSpec& spec) {
    Laid l;
    auto size = stack_size(spec);
    EXPECT_TRUE(size.ok());
    l.buf.assign(size.value(), 0xcc);
    auto r = layout_stack(spec, kTop, l.buf.data(), l.buf.size());
    EXPECT_TRUE(r.ok());
    l.layout = r.value();
    return l;
}

TEST(LoaderStack, ArgvEnvpAuxvAsTheAbiSays) {
    const char* argv[] = {"/bin/prog", "-x", "hello world"};
    const char* envp[] = {"PATH=/bin", "HOME=/"};
    const AuxEntry aux[] = {{AT_PAGESZ, 4096}, {AT_ENTRY, 0x401000}, {AT_BASE, 0}};
    StackSpec spec;
    spec.argv = argv;
    spec.argc = 3;
    spec.envp = envp;
    spec.envc = 2;
    spec.execfn = "/bin/prog";
    spec.platform = "x86_64";
    for (int i = 0; i < 16; ++i) spec.random[i] = uint8_t(0xa0 + i);
    spec.aux = aux;
    spec.auxc = 3;
    Laid l = lay(spec);

    uint64_t rsp = l.layout.rsp;
    EXPECT_EQ(rsp % 16, 0u) << "rsp is 16-byte aligned at entry";
    EXPECT_EQ(l.layout.used, kTop - rsp);
    EXPECT_LE(l.layout.used, l.buf.size());
    EXPECT_EQ(l.word(kTop - 8), 0u) << "end marker";

    uint64_t p = rsp;
    ASSERT_EQ(l.word(p), 3u) << "argc at [rsp]";
    p += 8;
    for (int i = 0; i < 3; ++i, p += 8) {
        ASSERT_TRUE(l.inside(l.word(p)));
        EXPECT_EQ(l.str(l.word(p)), argv[i]);
    }
    EXPECT_EQ(l.word(p), 0u);
    p += 8;
    for (int i = 0; i < 2; ++i, p += 8) {
        ASSERT_TRUE(l.inside(l.word(p)));
        EXPECT_EQ(l.str(l.word(p)), envp[i]);
    }
    EXPECT_EQ(l.word(p), 0u);
    p += 8;
    std::map<uint64_t, uint64_t> auxv;
    for (;; p += 16) {
        uint64_t type = l.word(p), value = l.word(p + 8);
        if (type == AT_NULL) break;
        EXPECT_FALSE(auxv.count(type)) << "aux type " << type << " twice";
        auxv[type] = value;
        ASSERT_LT(p, kTop);
    }
    EXPECT_EQ(auxv[AT_PAGESZ], 4096u);
    EXPECT_EQ(auxv[AT_ENTRY], 0x401000u);
    ASSERT_TRUE(auxv.count(AT_BASE));
    ASSERT_TRUE(l.inside(auxv[AT_EXECFN]));
    EXPECT_EQ(l.str(auxv[AT_EXECFN]), "/bin/prog");
    ASSERT_TRUE(l.inside(auxv[AT_PLATFORM]));
    EXPECT_EQ(l.str(auxv[AT_PLATFORM]), "x86_64");
    uint64_t random = auxv[AT_RANDOM];
    ASSERT_TRUE(l.inside(random) && l.inside(random + 15));
    EXPECT_EQ(random % 16, 0u);
    for (int i = 0; i < 16; ++i) {
        EXPECT_EQ(l.buf[l.buf.size() - (kTop - random) + i], 0xa0 + i);
    }
    // The strings lie above the vectors, and nothing is written below rsp.
    EXPECT_GT(random, p);
    for (size_t i = 0; i < l.buf.size() - l.layout.used; ++i) ASSERT_EQ(l.buf[i], 0xcc);
}

TEST(LoaderStack, AlignedForEveryCountOfStrings) {
    // Odd and even argc/envc and string lengths all end 16-byte aligned.
    std::vector<std::string> strings;
    for (int i = 0; i < 9; ++i) strings.push_back(std::string(i * 3 + 1, char('a' + i)));
    std::vector<const char*> ptrs;
    for (auto& s : strings) ptrs.push_back(s.c_str());
    for (size_t argc = 0; argc < 5; ++argc) {
        for (size_t envc = 0; envc < 5; ++envc) {
            StackSpec spec;
            spec.argv = ptrs.data();
            spec.argc = argc;
            spec.envp = ptrs.data() + 4;
            spec.envc = envc;
            spec.execfn = argc ? ptrs[0] : nullptr;
            spec.platform = (argc & 1) ? "x86_64" : nullptr;
            Laid l = lay(spec);
            EXPECT_EQ(l.layout.rsp % 16, 0u);
            EXPECT_EQ(l.word(l.layout.rsp), argc);
            EXPECT_EQ(l.word(l.layout.rsp + 8 * (1 + argc)), 0u);
            EXPECT_EQ(l.word(l.layout.rsp + 8 * (2 + argc + envc)), 0u);
        }
    }
}

TEST(LoaderStack, TooMuchIsE2big) {
    std::string big(kMaxStackImage, 'x');
    const char* argv[] = {big.c_str()};
    StackSpec spec;
    spec.argv = argv;
    spec.argc = 1;
    auto r = stack_size(spec);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error(), Errno::kE2BIG);
}

TEST(LoaderStack, SmallBufferOrUnalignedTopIsRefused) {
    const char* argv[] = {"a"};
    StackSpec spec;
    spec.argv = argv;
    spec.argc = 1;
    size_t size = stack_size(spec).value();
    std::vector<uint8_t> buf(size);
    EXPECT_EQ(layout_stack(spec, kTop, buf.data(), size - 1).error(), Errno::kEINVAL);
    EXPECT_EQ(layout_stack(spec, kTop - 8, buf.data(), size).error(), Errno::kEINVAL);
    EXPECT_TRUE(layout_stack(spec, kTop, buf.data(), size).ok());
}

TEST(LoaderStack, SplitStrings) {
    char a[] = "/bin/sh\0-c\0echo hi\0";
    const char* out[4];
    auto n = split_strings(a, sizeof(a) - 1, sizeof(a), out, 4);
    ASSERT_TRUE(n.ok());
    ASSERT_EQ(n.value(), 3u);
    EXPECT_STREQ(out[0], "/bin/sh");
    EXPECT_STREQ(out[1], "-c");
    EXPECT_STREQ(out[2], "echo hi");

    char b[8] = {'x', '\0', 'y', 'z'};  // no final NUL; room for one
    auto m = split_strings(b, 4, sizeof(b), out, 4);
    ASSERT_EQ(m.value(), 2u);
    EXPECT_STREQ(out[1], "yz");
    EXPECT_EQ(split_strings(b, 0, sizeof(b), out, 4).value(), 0u);

    char c[2] = {'x', 'y'};  // no final NUL and no room
    EXPECT_EQ(split_strings(c, 2, 2, out, 4).error(), Errno::kE2BIG);

    char d[] = "a\0\0b";  // empty strings count
    EXPECT_EQ(split_strings(d, sizeof(d), sizeof(d), out, 4).value(), 3u);
    // More strings than room: counted, not stored past max.
    char e[] = "1\0002\0003";
    EXPECT_EQ(split_strings(e, sizeof(e), sizeof(e), out, 1).value(), 3u);
}

}  // namespace
