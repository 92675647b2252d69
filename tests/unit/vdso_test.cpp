// kernel/linux/vdso: the shipped vDSO image (the same file the kernel
// embeds) has the dynamic symbols and versions glibc and musl look up and
// needs no relocations; loaded into this process below a fake vvar page, it
// serves the clocks with the kernel's arithmetic (arch/x86_64/clock.cpp) and
// falls back to real syscalls for what it cannot serve.
#include <elf.h>
#include <gtest/gtest.h>
#include <sys/mman.h>
#include <sys/time.h>
#include <time.h>
#include <x86intrin.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <iterator>
#include <map>
#include <string>
#include <vector>

#include "kiln/elf.h"
#include "linux/vdso/vvar.h"

using namespace kiln::vdso;

namespace {

std::vector<uint8_t> read_vdso() {
    std::ifstream f(KILN_VDSO_SO, std::ios::binary);
    return std::vector<uint8_t>(std::istreambuf_iterator<char>(f), {});
}

struct Symbol {
    uint64_t value;
    unsigned bind;
    std::string version;
};

// Dynamic symbols with their versions, through the section headers.
std::map<std::string, Symbol> dynamic_symbols(const std::vector<uint8_t>& f) {
    std::map<std::string, Symbol> out;
    auto* eh = reinterpret_cast<const Elf64_Ehdr*>(f.data());
    auto* sh = reinterpret_cast<const Elf64_Shdr*>(f.data() + eh->e_shoff);
    const Elf64_Shdr *dynsym = nullptr, *versym = nullptr, *verdef = nullptr;
    for (int i = 0; i < eh->e_shnum; ++i) {
        if (sh[i].sh_type == SHT_DYNSYM) dynsym = &sh[i];
        if (sh[i].sh_type == SHT_GNU_versym) versym = &sh[i];
        if (sh[i].sh_type == SHT_GNU_verdef) verdef = &sh[i];
    }
    if (!dynsym || !versym || !verdef) return out;
    const char* strs = reinterpret_cast<const char*>(f.data() + sh[dynsym->sh_link].sh_offset);
    std::map<unsigned, std::string> versions;
    for (size_t off = verdef->sh_offset;;) {
        auto* vd = reinterpret_cast<const Elf64_Verdef*>(f.data() + off);
        auto* aux = reinterpret_cast<const Elf64_Verdaux*>(f.data() + off + vd->vd_aux);
        versions[vd->vd_ndx] = strs + aux->vda_name;
        if (!vd->vd_next) break;
        off += vd->vd_next;
    }
    auto* syms = reinterpret_cast<const Elf64_Sym*>(f.data() + dynsym->sh_offset);
    auto* vers = reinterpret_cast<const Elf64_Half*>(f.data() + versym->sh_offset);
    for (size_t i = 1; i < dynsym->sh_size / sizeof(Elf64_Sym); ++i) {
        if (syms[i].st_shndx == SHN_UNDEF || syms[i].st_shndx == SHN_ABS) continue;
        out[strs + syms[i].st_name] = {syms[i].st_value, ELF64_ST_BIND(syms[i].st_info),
                                       versions[vers[i] & 0x7fff]};
    }
    return out;
}

const char* const kExports[] = {"clock_gettime", "gettimeofday", "time", "getcpu"};

TEST(Vdso, ShapeOfTheImage) {
    auto f = read_vdso();
    ASSERT_GT(f.size(), 64u);
    auto elf = kiln::elf::ElfFile::parse(kiln::Bytes(f.data(), f.size()));
    ASSERT_TRUE(elf.ok());
    EXPECT_EQ(elf->type(), kiln::elf::kTypeDyn);
    int loads = 0, dynamic = 0, notes = 0;
    for (size_t i = 0; i < elf->phdr_count(); ++i) {
        auto ph = elf->phdr(i);
        if (ph.type == kiln::elf::kPtLoad) {
            ++loads;
            // Mapped as the file's bytes from the image's first page.
            EXPECT_EQ(ph.offset, 0u);
            EXPECT_EQ(ph.vaddr, 0u);
            EXPECT_EQ(ph.filesz, ph.memsz);
            EXPECT_EQ(ph.flags, kiln::elf::kPfR | kiln::elf::kPfX);
        }
        dynamic += ph.type == kiln::elf::kPtDynamic;
        notes += ph.type == kiln::elf::kPtNote;
    }
    EXPECT_EQ(loads, 1);
    EXPECT_EQ(dynamic, 1);
    EXPECT_EQ(notes, 1);
    EXPECT_TRUE(elf->find_note("Linux", 0).ok());

    auto dyn = kiln::elf::DynamicSection::parse(elf.value());
    ASSERT_TRUE(dyn.ok());
    bool hash = false, gnu_hash = false, verdef = false, versym = false;
    for (size_t i = 0; i < dyn->count(); ++i) {
        int64_t tag = dyn->entry(i).tag;
        hash |= tag == DT_HASH;
        gnu_hash |= tag == DT_GNU_HASH;
        verdef |= tag == DT_VERDEF;
        versym |= tag == DT_VERSYM;
        // Nobody relocates the vDSO.
        EXPECT_NE(tag, DT_RELA);
        EXPECT_NE(tag, DT_REL);
        EXPECT_NE(tag, DT_JMPREL);
        EXPECT_NE(tag, DT_TEXTREL);
        EXPECT_NE(tag, DT_NEEDED);
    }
    EXPECT_TRUE(hash && gnu_hash && verdef && versym);
    auto soname = dyn->string_of(kiln::elf::kDtSoname);
    ASSERT_TRUE(soname.ok());
    EXPECT_EQ(std::string(reinterpret_cast<const char*>(soname->data()), soname->size()),
              "linux-vdso.so.1");

    auto syms = dynamic_symbols(f);
    for (const char* name : kExports) {
        std::string prefixed = std::string("__vdso_") + name;
        ASSERT_TRUE(syms.count(prefixed)) << prefixed;
        ASSERT_TRUE(syms.count(name)) << name;
        EXPECT_EQ(syms[prefixed].bind, unsigned(STB_GLOBAL));
        EXPECT_EQ(syms[name].bind, unsigned(STB_WEAK)) << name;
        EXPECT_EQ(syms[prefixed].value, syms[name].value);
        EXPECT_EQ(syms[prefixed].version, "LINUX_2.6");
        EXPECT_EQ(syms[name].version, "LINUX_2.6");
    }
    EXPECT_EQ(syms.size(), 8u) << "nothing else is exported";
}

// The image mapped into this process the way the kernel maps it into an
// app: vvar pages, then the file's bytes read+execute.
class LoadedVdso : public ::testing::Test {
protected:
    void SetUp() override {
        file_ = read_vdso();
        size_t image = (file_.size() + kPageSize - 1) & ~(kPageSize - 1);
        size_ = kVvarPages * kPageSize + image;
        void* p = mmap(nullptr, size_, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        ASSERT_NE(p, MAP_FAILED);
        base_ = static_cast<uint8_t*>(p);
        uint8_t* img = base_ + kVvarPages * kPageSize;
        memcpy(img, file_.data(), file_.size());
        ASSERT_EQ(mprotect(img, image, PROT_READ | PROT_EXEC), 0);
        auto syms = dynamic_symbols(file_);
        clock_gettime_ = reinterpret_cast<int (*)(int, timespec*)>(img + syms["__vdso_clock_gettime"].value);
        gettimeofday_ = reinterpret_cast<int (*)(timeval*, struct timezone*)>(img + syms["__vdso_gettimeofday"].value);
        time_ = reinterpret_cast<time_t (*)(time_t*)>(img + syms["__vdso_time"].value);
        getcpu_ = reinterpret_cast<long (*)(unsigned*, unsigned*, void*)>(img + syms["__vdso_getcpu"].value);
    }
    void TearDown() override { munmap(base_, size_); }
    Vvar& vvar() { return *reinterpret_cast<Vvar*>(base_ + kVvarOffset); }
    PvclockTime& pvclock() { return *reinterpret_cast<PvclockTime*>(base_ + kPvclockOffset); }

    static uint64_t ns(const timespec& ts) { return uint64_t(ts.tv_sec) * 1000000000 + ts.tv_nsec; }

    std::vector<uint8_t> file_;
    uint8_t* base_ = nullptr;
    size_t size_ = 0;
    int (*clock_gettime_)(int, timespec*) = nullptr;
    int (*gettimeofday_)(timeval*, struct timezone*) = nullptr;
    time_t (*time_)(time_t*) = nullptr;
    long (*getcpu_)(unsigned*, unsigned*, void*) = nullptr;
};

// arch::monotonic_ns() in TSC mode, written out from clock.cpp.
uint64_t arch_tsc_ns(uint64_t tsc, uint64_t base, uint64_t mult) {
    return uint64_t((unsigned __int128)(tsc - base) * mult >> 32);
}

TEST_F(LoadedVdso, TscModeMatchesTheKernelFormula) {
    const uint64_t hz = 2400000000ull;
    vvar().mode = kModeTsc;
    vvar().tsc_mult = (1000000000ull << 32) / hz;  // as clock.cpp computes it
    vvar().tsc_base = __rdtsc() - hz * 3;           // "booted" ~3 s ago
    vvar().wall_at_zero = 1700000000ull * 1000000000 + 123456789;
    for (int clock : {CLOCK_MONOTONIC, CLOCK_MONOTONIC_COARSE, CLOCK_MONOTONIC_RAW, CLOCK_BOOTTIME}) {
        timespec ts{};
        uint64_t before = __rdtsc();
        ASSERT_EQ(clock_gettime_(clock, &ts), 0);
        uint64_t after = __rdtsc();
        EXPECT_LT(ts.tv_nsec, 1000000000);
        EXPECT_GE(ns(ts), arch_tsc_ns(before, vvar().tsc_base, vvar().tsc_mult)) << clock;
        EXPECT_LE(ns(ts), arch_tsc_ns(after, vvar().tsc_base, vvar().tsc_mult)) << clock;
    }
    for (int clock : {CLOCK_REALTIME, CLOCK_REALTIME_COARSE}) {
        timespec ts{};
        uint64_t before = __rdtsc();
        ASSERT_EQ(clock_gettime_(clock, &ts), 0);
        uint64_t after = __rdtsc();
        uint64_t w = vvar().wall_at_zero;
        EXPECT_GE(ns(ts), arch_tsc_ns(before, vvar().tsc_base, vvar().tsc_mult) + w);
        EXPECT_LE(ns(ts), arch_tsc_ns(after, vvar().tsc_base, vvar().tsc_mult) + w);
    }
    timeval tv{};
    struct timezone tz {1, 1};
    uint64_t before = __rdtsc();
    ASSERT_EQ(gettimeofday_(&tv, &tz), 0);
    uint64_t after = __rdtsc();
    uint64_t lo = (arch_tsc_ns(before, vvar().tsc_base, vvar().tsc_mult) + vvar().wall_at_zero) / 1000;
    uint64_t hi = (arch_tsc_ns(after, vvar().tsc_base, vvar().tsc_mult) + vvar().wall_at_zero) / 1000;
    uint64_t us = uint64_t(tv.tv_sec) * 1000000 + tv.tv_usec;
    EXPECT_GE(us, lo);
    EXPECT_LE(us, hi);
    EXPECT_EQ(tz.tz_minuteswest, 0);
    EXPECT_EQ(tz.tz_dsttime, 0);
    EXPECT_EQ(gettimeofday_(&tv, nullptr), 0);

    time_t t = 0;
    time_t r = time_(&t);
    EXPECT_EQ(r, t);
    EXPECT_GE(r, 1700000003);
    EXPECT_LE(r, 1700000003 + 60);
    EXPECT_EQ(time_(nullptr), r);
}

// arch::monotonic_ns() in kvmclock mode, written out from clock.cpp.
uint64_t arch_pvclock_ns(uint64_t tsc, const PvclockTime& p) {
    uint64_t delta = tsc - p.tsc_timestamp;
    delta = p.tsc_shift >= 0 ? delta << p.tsc_shift : delta >> -p.tsc_shift;
    return p.system_time + uint64_t((unsigned __int128)delta * p.tsc_to_system_mul >> 32);
}

TEST_F(LoadedVdso, PvclockModeMatchesTheKernelFormula) {
    vvar().mode = kModePvclock;
    vvar().wall_at_zero = 1600000000ull * 1000000000;
    for (int8_t shift : {-1, 0, 1}) {
        PvclockTime& p = pvclock();
        p.version = 4;
        p.tsc_timestamp = __rdtsc() - 1000000;
        p.system_time = 987654321012ull;
        p.tsc_to_system_mul = 0xd5555555u;  // ~3 GHz with shift -1
        p.tsc_shift = shift;
        timespec ts{};
        uint64_t before = __rdtsc();
        ASSERT_EQ(clock_gettime_(CLOCK_MONOTONIC, &ts), 0);
        uint64_t after = __rdtsc();
        EXPECT_GE(ns(ts), arch_pvclock_ns(before, p));
        EXPECT_LE(ns(ts), arch_pvclock_ns(after, p));
        ASSERT_EQ(clock_gettime_(CLOCK_REALTIME, &ts), 0);
        EXPECT_GE(ns(ts), arch_pvclock_ns(after, p) + vvar().wall_at_zero);
    }
}

TEST_F(LoadedVdso, OtherClocksAndNoModeUseTheSyscall) {
    // CPU-time clocks are the kernel's business: here, the host's.
    timespec ts{-1, -1};
    EXPECT_EQ(clock_gettime_(CLOCK_PROCESS_CPUTIME_ID, &ts), 0);
    EXPECT_GE(ts.tv_sec, 0);
    EXPECT_GE(ts.tv_nsec, 0);
    EXPECT_EQ(clock_gettime_(12345, &ts), -EINVAL) << "raw syscall result, as libcs expect";

    vvar().mode = kModeNone;
    timespec host{};
    clock_gettime(CLOCK_MONOTONIC, &host);
    ASSERT_EQ(clock_gettime_(CLOCK_MONOTONIC, &ts), 0);
    EXPECT_GE(ns(ts), ns(host));
    EXPECT_LT(ns(ts) - ns(host), 1000000000ull);
    timeval tv{};
    EXPECT_EQ(gettimeofday_(&tv, nullptr), 0);
    EXPECT_NEAR(double(tv.tv_sec), double(::time(nullptr)), 2.0);
    EXPECT_NEAR(double(time_(nullptr)), double(::time(nullptr)), 2.0);
}

TEST_F(LoadedVdso, GetcpuIsCpuZero) {
    unsigned cpu = 7, node = 7;
    EXPECT_EQ(getcpu_(&cpu, &node, nullptr), 0);
    EXPECT_EQ(cpu, 0u);
    EXPECT_EQ(node, 0u);
    EXPECT_EQ(getcpu_(nullptr, nullptr, nullptr), 0);
}

TEST(VvarArithmetic, SameAsTheKernelAcrossTheRange) {
    // Large deltas overflow 64-bit products: both use a 128-bit one.
    const uint64_t mults[] = {1, 1789569706 /* 2.4 GHz */, 4294967296ull /* 1 GHz */,
                              (1000000000ull << 32) / 32768};
    const uint64_t deltas[] = {0, 1, 999, 1ull << 33, 1ull << 50, ~0ull >> 1};
    for (uint64_t m : mults) {
        for (uint64_t d : deltas) {
            EXPECT_EQ(tsc_monotonic_ns(1000 + d, 1000, m), arch_tsc_ns(1000 + d, 1000, m));
        }
    }
    // 2.4 GHz: one second of ticks is one second, to within the rounding of mult.
    uint64_t m = (1000000000ull << 32) / 2400000000ull;
    uint64_t one = tsc_monotonic_ns(2400000000ull, 0, m);
    EXPECT_LE(one, 1000000000u);
    EXPECT_GE(one, 999999990u);
    PvclockTime p{};
    p.tsc_timestamp = 500;
    p.system_time = 42;
    p.tsc_to_system_mul = 0x80000000u;  // 0.5 ns per (shifted) tick
    for (int8_t s : {-3, -1, 0, 1, 3}) {
        p.tsc_shift = s;
        for (uint64_t d : deltas) {
            if (s > 0 && d > (~0ull >> s)) continue;
            EXPECT_EQ(pvclock_monotonic_ns(500 + d, 500, 42, p.tsc_to_system_mul, s),
                      arch_pvclock_ns(500 + d, p));
        }
    }
    p.tsc_shift = 1;
    EXPECT_EQ(pvclock_monotonic_ns(1500, 500, 42, p.tsc_to_system_mul, 1), 42u + 1000u);
}

}  // namespace
