#include "kiln/ksyms.h"

#include <dlfcn.h>
#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <string>
#include <vector>

using kiln::ksym_lookup;
using kiln::KsymTable;

namespace {

// A table built by hand: addresses 0x1000, 0x1010, 0x2000 (twice), 0xffff...f000.
const uint64_t kAddrs[] = {0x1000, 0x1010, 0x2000, 0x2000, 0xfffffffffffff000ull};
const char kNames[] = "first\0second\0third\0third_alias\0last";
const uint32_t kOffsets[] = {0, 6, 13, 19, 31};
const KsymTable kTable{kAddrs, kOffsets, kNames, 5};

std::string name_at(const KsymTable& t, uint64_t addr, uint64_t* offset = nullptr) {
    const char* name = nullptr;
    uint64_t off = 0;
    if (!ksym_lookup(t, addr, &name, &off)) return "<none>";
    if (offset != nullptr) *offset = off;
    return name;
}

TEST(Ksyms, EmptyTableFindsNothing) {
    KsymTable empty{nullptr, nullptr, "", 0};
    const char* name = "untouched";
    uint64_t off = 77;
    EXPECT_FALSE(ksym_lookup(empty, 0x1000, &name, &off));
    EXPECT_STREQ(name, "untouched");
    EXPECT_EQ(off, 77u);
}

TEST(Ksyms, BelowFirstSymbolFindsNothing) {
    EXPECT_EQ(name_at(kTable, 0), "<none>");
    EXPECT_EQ(name_at(kTable, 0xfff), "<none>");
}

TEST(Ksyms, ExactAddressHasOffsetZero) {
    uint64_t off = 99;
    EXPECT_EQ(name_at(kTable, 0x1000, &off), "first");
    EXPECT_EQ(off, 0u);
    EXPECT_EQ(name_at(kTable, 0x1010, &off), "second");
    EXPECT_EQ(off, 0u);
}

TEST(Ksyms, InsideASymbolGivesTheOffset) {
    uint64_t off = 0;
    EXPECT_EQ(name_at(kTable, 0x100f, &off), "first");
    EXPECT_EQ(off, 0xfu);
    EXPECT_EQ(name_at(kTable, 0x1fff, &off), "second");
    EXPECT_EQ(off, 0x1fff - 0x1010u);
}

TEST(Ksyms, DuplicateAddressesNameTheFirst) {
    uint64_t off = 1;
    EXPECT_EQ(name_at(kTable, 0x2000, &off), "third");
    EXPECT_EQ(off, 0u);
    EXPECT_EQ(name_at(kTable, 0x2abc, &off), "third");
    EXPECT_EQ(off, 0xabcu);
}

TEST(Ksyms, LastSymbolCoversTheTopOfTheAddressSpace) {
    uint64_t off = 0;
    EXPECT_EQ(name_at(kTable, UINT64_MAX, &off), "last");
    EXPECT_EQ(off, 0xfffu);
    EXPECT_EQ(name_at(kTable, 0xfffffffffffff000ull - 1), "third");
}

TEST(Ksyms, NullOutputsAreAllowed) {
    EXPECT_TRUE(ksym_lookup(kTable, 0x1234, nullptr, nullptr));
}

TEST(Ksyms, SingleEntryTable) {
    const uint64_t addrs[] = {0xffffffff80000000ull};
    const uint32_t offs[] = {0};
    KsymTable t{addrs, offs, "_start", 1};
    EXPECT_EQ(name_at(t, 0xffffffff7fffffffull), "<none>");
    EXPECT_EQ(name_at(t, 0xffffffff80000000ull), "_start");
    EXPECT_EQ(name_at(t, 0xffffffff80100000ull), "_start");
}

// Against a linear scan over a large table with gaps and runs of duplicates.
TEST(Ksyms, MatchesLinearScanOnALargeTable) {
    std::vector<uint64_t> addrs;
    std::vector<uint32_t> offs;
    std::string names;
    uint64_t a = 0xffffffff80000000ull;
    uint32_t seed = 12345;
    for (int i = 0; i < 5000; ++i) {
        seed = seed * 1103515245 + 12345;
        if (seed % 7 != 0) a += 1 + (seed >> 8) % 300;  // sometimes a duplicate
        addrs.push_back(a);
        offs.push_back(static_cast<uint32_t>(names.size()));
        names += "f" + std::to_string(i);
        names.push_back('\0');
    }
    KsymTable t{addrs.data(), offs.data(), names.data(), static_cast<uint32_t>(addrs.size())};
    for (uint64_t q = addrs.front() - 5; q < addrs.back() + 50; q += 3) {
        int want = -1;
        for (size_t i = 0; i < addrs.size(); ++i) {
            if (addrs[i] > q) break;
            if (want < 0 || addrs[i] != addrs[static_cast<size_t>(want)])
                want = static_cast<int>(i);
        }
        const char* name = nullptr;
        uint64_t off = 0;
        bool found = ksym_lookup(t, q, &name, &off);
        ASSERT_EQ(found, want >= 0) << q;
        if (!found) continue;
        ASSERT_STREQ(name, names.data() + offs[static_cast<size_t>(want)]) << q;
        ASSERT_EQ(off, q - addrs[static_cast<size_t>(want)]);
        if (q > addrs.front() + 200000) q += 997;  // keep the quadratic scan short
    }
}

// ---- scripts/gen-ksyms, end to end -------------------------------------------
// The script runs on this test binary; its output is assembled into a shared
// object, loaded, and looked up with addresses of functions defined here.

}  // namespace

namespace ksyms_probe {
__attribute__((noinline, used)) int alpha(int x) {
    return x * 3 + 1;
}
__attribute__((noinline, used)) long beta(const char* s, unsigned n) {
    return s[0] + n;
}
}  // namespace ksyms_probe

namespace {

class GenKsyms : public ::testing::Test {
protected:
    void SetUp() override {
        char tmpl[] = "/tmp/kiln-ksyms-XXXXXX";
        ASSERT_NE(mkdtemp(tmpl), nullptr);
        dir_ = tmpl;
    }
    void TearDown() override {
        if (handle_ != nullptr) dlclose(handle_);
        if (!dir_.empty()) system(("rm -rf '" + dir_ + "'").c_str());
    }
    // Runs gen-ksyms with args, builds a shared object from its output, loads it.
    KsymTable build(const std::string& args) {
        std::string script = std::string(KILN_SOURCE_DIR) + "/scripts/gen-ksyms";
        std::string s = dir_ + "/ksyms.S";
        std::string so = dir_ + "/ksyms.so";
        std::string cmd = "'" + script + "' " + args + " '" + s + "' && cc -shared -nostdlib -o '" +
                          so + "' '" + s + "'";
        EXPECT_EQ(system(cmd.c_str()), 0) << cmd;
        handle_ = dlopen(so.c_str(), RTLD_NOW | RTLD_LOCAL);
        EXPECT_NE(handle_, nullptr) << dlerror();
        if (handle_ == nullptr) return KsymTable{nullptr, nullptr, "", 0};
        auto sym = [&](const char* n) { return dlsym(handle_, n); };
        EXPECT_NE(sym("kiln_ksym_count"), nullptr);
        if (sym("kiln_ksym_count") == nullptr) return KsymTable{nullptr, nullptr, "", 0};
        KsymTable t{static_cast<const uint64_t*>(sym("kiln_ksym_addrs")),
                    static_cast<const uint32_t*>(sym("kiln_ksym_name_offsets")),
                    static_cast<const char*>(sym("kiln_ksym_names")),
                    *static_cast<const uint32_t*>(sym("kiln_ksym_count"))};
        return t;
    }

    std::string dir_;
    void* handle_ = nullptr;
};

TEST_F(GenKsyms, RefusesAnInputWithoutSymbols) {
    std::string empty_obj = dir_ + "/stripped.o";
    std::string cmd = "echo 'int x;' | cc -x c -c -o '" + empty_obj + "' - && '" +
                      std::string(KILN_SOURCE_DIR) + "/scripts/gen-ksyms' '" + empty_obj + "' '" +
                      dir_ + "/out.S' 2>/dev/null";
    EXPECT_NE(system(cmd.c_str()), 0);
    EXPECT_NE(access((dir_ + "/out.S").c_str(), F_OK), 0);  // no half-written output
}

TEST_F(GenKsyms, EmptyModeDefinesAZeroCountTable) {
    KsymTable t = build("--empty");
    ASSERT_NE(t.addrs, nullptr);
    ASSERT_NE(t.name_offsets, nullptr);
    ASSERT_NE(t.names, nullptr);
    EXPECT_EQ(t.count, 0u);
    EXPECT_FALSE(ksym_lookup(t, 0x1000, nullptr, nullptr));
}

TEST_F(GenKsyms, TableOfThisBinaryNamesItsFunctions) {
    char self[4096] = {};
    ASSERT_GT(readlink("/proc/self/exe", self, sizeof(self) - 1), 0);
    KsymTable t = build(std::string("'") + self + "'");
    ASSERT_GT(t.count, 10u);
    for (uint32_t i = 1; i < t.count; ++i) ASSERT_LT(t.addrs[i - 1], t.addrs[i]) << i;

    // nm reports link-time addresses; this binary may be loaded elsewhere.
    Dl_info info{};
    ASSERT_NE(dladdr(reinterpret_cast<void*>(&ksyms_probe::alpha), &info), 0);
    uintptr_t base = reinterpret_cast<uintptr_t>(info.dli_fbase);
    auto link_addr = [&](auto* fn) { return reinterpret_cast<uintptr_t>(fn) - base; };

    const char* name = nullptr;
    uint64_t off = 99;
    ASSERT_TRUE(ksym_lookup(t, link_addr(&ksyms_probe::alpha), &name, &off));
    EXPECT_STREQ(name, "ksyms_probe::alpha");  // demangled, without parameters (c++filt -p)
    EXPECT_EQ(off, 0u);
    ASSERT_TRUE(ksym_lookup(t, link_addr(&ksyms_probe::beta) + 3, &name, &off));
    EXPECT_STREQ(name, "ksyms_probe::beta");
    EXPECT_EQ(off, 3u);
    ASSERT_TRUE(ksym_lookup(t, link_addr(&kiln::ksym_lookup), &name, &off));
    EXPECT_STREQ(name, "kiln::ksym_lookup");
}

}  // namespace
