// The user address space (kernel/mm/vm*.cpp) over a fake backend: page
// tables and frames in maps, so every Linux rule of mmap(2), munmap(2),
// mprotect(2), brk(2), mremap(2) and madvise(2) that the kernel relies on
// can be checked, and a random sequence compared against a simple model.
#include "mm/vm.h"

#include <gtest/gtest.h>
#include <linux/mman.h>
#include <stdlib.h>
#include <string.h>

#include <map>
#include <random>
#include <vector>

#include "fs/inode.h"

using kiln::Errno;
using kiln::Result;
using kiln::mm::Access;
using kiln::mm::UserAddressSpace;
using kiln::mm::UserPte;
using kiln::mm::VmBackend;

namespace {

constexpr uint64_t kPage = 4096;
constexpr int kR = kiln::mm::kProtRead, kW = kiln::mm::kProtWrite, kX = kiln::mm::kProtExec;
constexpr int kAnon = MAP_PRIVATE | MAP_ANONYMOUS;

class FakeBackend final : public VmBackend {
public:
    std::map<uint64_t, std::vector<uint8_t>> frames;
    std::map<uint64_t, UserPte> ptes;
    size_t frame_limit = SIZE_MAX;
    int map_failures = 0;  // the next n map() calls fail with ENOMEM
    bool meta_fails = false;
    int meta_live = 0;
    int oom_reports = 0;

    uint64_t alloc_frame() override {
        if (frames.size() >= frame_limit) return 0;
        uint64_t f = next_;
        next_ += kPage;
        frames[f].assign(kPage, 0xa5);  // garbage: the fill must overwrite it
        return f;
    }
    void free_frame(uint64_t f) override { EXPECT_EQ(frames.erase(f), 1u) << "frame " << f; }
    uint8_t* frame_bytes(uint64_t f) override { return frames.at(f).data(); }
    void* alloc_meta(size_t n) override {
        if (meta_fails) return nullptr;
        meta_live++;
        return malloc(n);
    }
    void free_meta(void* p) override {
        meta_live--;
        free(p);
    }
    Result<void> map(uint64_t va, uint64_t f, int prot) override {
        EXPECT_EQ(va % kPage, 0u);
        if (map_failures > 0) {
            map_failures--;
            return kiln::Error(Errno::kENOMEM);
        }
        if (ptes.count(va)) {
            ADD_FAILURE() << "map over a present page " << va;
            return kiln::Error(Errno::kEEXIST);
        }
        ptes[va] = UserPte{f, prot};
        return {};
    }
    UserPte lookup(uint64_t va) override {
        auto it = ptes.find(va);
        return it == ptes.end() ? UserPte{0, 0} : it->second;
    }
    void protect(uint64_t s, uint64_t e, int prot) override {
        for (auto it = ptes.lower_bound(s); it != ptes.end() && it->first < e; ++it) it->second.prot = prot;
    }
    void visit(uint64_t s, uint64_t e, FrameFn fn, void* ctx) override {
        std::vector<std::pair<uint64_t, uint64_t>> got;
        for (auto it = ptes.lower_bound(s); it != ptes.end() && it->first < e; ++it) {
            got.push_back({it->first, it->second.frame});
        }
        for (auto& [va, f] : got) fn(ctx, va, f);
    }
    void unmap(uint64_t s, uint64_t e, FrameFn fn, void* ctx) override {
        std::vector<std::pair<uint64_t, uint64_t>> got;
        auto it = ptes.lower_bound(s);
        while (it != ptes.end() && it->first < e) {
            got.push_back({it->first, it->second.frame});
            it = ptes.erase(it);
        }
        for (auto& [va, f] : got) fn(ctx, va, f);
    }
    void report_out_of_memory(uint64_t) override { oom_reports++; }

private:
    uint64_t next_ = 0x100000;
};

class FakeFile final : public kiln::fs::Inode {
public:
    explicit FakeFile(size_t n) : data(n) {
        for (size_t i = 0; i < n; i++) data[i] = static_cast<uint8_t>(i * 7 + 3);
    }
    std::vector<uint8_t> data;
    bool released = false;
    int reads = 0;

    kiln::fs::InodeType type() const override { return kiln::fs::InodeType::kRegular; }
    uint64_t size() const override { return data.size(); }
    Result<size_t> read_at(uint64_t off, void* buf, size_t n) override {
        reads++;
        if (off >= data.size()) return size_t{0};
        // Short reads on purpose: the fill must loop.
        size_t k = std::min<size_t>({n, data.size() - off, 1000});
        memcpy(buf, data.data() + off, k);
        return k;
    }

protected:
    void on_last_release() override { released = true; }
};

class VmTest : public ::testing::Test {
protected:
    void SetUp() override {
        auto r = UserAddressSpace::create(be);
        ASSERT_TRUE(r.ok());
        vm = *r;
    }
    void TearDown() override {
        UserAddressSpace::destroy(vm);
        EXPECT_TRUE(be.frames.empty()) << be.frames.size() << " frames leaked";
        EXPECT_TRUE(be.ptes.empty());
        EXPECT_EQ(be.meta_live, 0);
    }

    uint64_t map(uint64_t addr, uint64_t len, int prot, int flags = kAnon) {
        auto r = vm->mmap(addr, len, prot, flags, nullptr, 0);
        EXPECT_TRUE(r.ok()) << "mmap errno " << int(r.error());
        return r.ok() ? *r : 0;
    }
    Errno map_err(uint64_t addr, uint64_t len, int prot, int flags, uint64_t off = 0) {
        auto r = vm->mmap(addr, len, prot, flags, nullptr, off);
        EXPECT_FALSE(r.ok());
        return r.ok() ? Errno(0) : r.error();
    }
    bool write(uint64_t va, uint8_t v) {
        if (!vm->prepare(va, 1, Access::kWrite).ok()) return false;
        be.frames.at(be.ptes.at(va & ~(kPage - 1)).frame)[va % kPage] = v;
        return true;
    }
    int read(uint64_t va) {  // -1 when the read faults
        if (!vm->prepare(va, 1, Access::kRead).ok()) return -1;
        return be.frames.at(be.ptes.at(va & ~(kPage - 1)).frame)[va % kPage];
    }
    void check_invariants() {
        const auto& v = vm->vmas();
        for (size_t i = 0; i < v.count(); i++) {
            ASSERT_LT(v[i].start, v[i].end);
            ASSERT_EQ(v[i].start % kPage, 0u);
            ASSERT_EQ(v[i].end % kPage, 0u);
            if (i) ASSERT_LE(v[i - 1].end, v[i].start);
        }
        ASSERT_EQ(vm->resident_pages(), be.ptes.size());
        ASSERT_EQ(be.frames.size(), be.ptes.size());
        for (auto& [va, pte] : be.ptes) ASSERT_NE(v.count(), v.first_ending_above(va)) << va;
    }

    FakeBackend be;
    UserAddressSpace* vm = nullptr;
};

TEST_F(VmTest, AnonymousTopDownDemandZero) {
    uint64_t a = map(0, 3 * kPage, kR | kW);
    uint64_t b = map(0, 5000, kR | kW);
    EXPECT_EQ(a + 3 * kPage, UserAddressSpace::kDefaultMmapTop);
    EXPECT_EQ(b + 2 * kPage, a);  // len rounded up to pages
    EXPECT_EQ(vm->resident_pages(), 0u);
    EXPECT_EQ(read(a + 10), 0);  // demand zero over garbage frames
    EXPECT_TRUE(write(b + 4097, 9));
    EXPECT_EQ(read(b + 4097), 9);
    EXPECT_EQ(vm->resident_pages(), 2u);
    check_invariants();
}

TEST_F(VmTest, HintHonouredWhenFreeOtherwiseTopDown) {
    EXPECT_EQ(map(0x200000000, kPage, kR), 0x200000000u);
    EXPECT_EQ(map(0x300000123, kPage, kR), 0x300001000u);  // rounded up
    uint64_t c = map(0x200000000, kPage, kR);
    EXPECT_NE(c, 0x200000000u);
    EXPECT_EQ(c + kPage, UserAddressSpace::kDefaultMmapTop);
    EXPECT_NE(map(0x1000, kPage, kR), 0x1000u);  // below mmap_min_addr
}

TEST_F(VmTest, MmapArgumentErrors) {
    EXPECT_EQ(map_err(0, 0, kR, kAnon), Errno::kEINVAL);
    EXPECT_EQ(map_err(0, kPage, kR, MAP_ANONYMOUS), Errno::kEINVAL);  // no type
    EXPECT_EQ(map_err(0, kPage, kR, kAnon, 100), Errno::kEINVAL);
    EXPECT_EQ(map_err(0x200000100, kPage, kR, kAnon | MAP_FIXED), Errno::kEINVAL);
    EXPECT_EQ(map_err(0x1000, kPage, kR, kAnon | MAP_FIXED), Errno::kEPERM);
    EXPECT_EQ(map_err(0, ~0ull - 10, kR, kAnon), Errno::kENOMEM);
    EXPECT_EQ(map_err(0, 1ull << 47, kR, kAnon), Errno::kENOMEM);
    EXPECT_EQ(map_err(UserAddressSpace::kTop - kPage, 2 * kPage, kR, kAnon | MAP_FIXED),
              Errno::kENOMEM);
    EXPECT_EQ(map_err(0, kPage, kR, MAP_SHARED_VALIDATE | MAP_ANONYMOUS | 0x200000),
              Errno::kEOPNOTSUPP);
    EXPECT_EQ(vm->vmas().count(), 0u);
    // MAP_SHARED anonymous memory works (private in effect).
    uint64_t s = map(0, kPage, kR | kW, MAP_SHARED | MAP_ANONYMOUS);
    EXPECT_TRUE(write(s, 1));
}

TEST_F(VmTest, FixedReplacesAndSplits) {
    uint64_t a = map(0x10000000, 10 * kPage, kR | kW, kAnon | MAP_FIXED);
    for (int i = 0; i < 10; i++) ASSERT_TRUE(write(a + i * kPage, uint8_t(i + 1)));
    EXPECT_EQ(map(a + 4 * kPage, 2 * kPage, kR, kAnon | MAP_FIXED), a + 4 * kPage);
    EXPECT_EQ(vm->vmas().count(), 3u);
    EXPECT_EQ(vm->resident_pages(), 8u);
    EXPECT_EQ(read(a + 4 * kPage), 0);
    EXPECT_FALSE(write(a + 5 * kPage, 1));
    EXPECT_EQ(read(a + 3 * kPage), 4);
    EXPECT_EQ(read(a + 6 * kPage), 7);
    // A fixed mapping across several mappings replaces all of them.
    EXPECT_EQ(map(a + 2 * kPage, 6 * kPage, kR | kW, kAnon | MAP_FIXED), a + 2 * kPage);
    EXPECT_EQ(read(a + 1 * kPage), 2);
    EXPECT_EQ(read(a + 3 * kPage), 0);
    EXPECT_EQ(read(a + 8 * kPage), 9);
    EXPECT_EQ(vm->vmas().count(), 1u);  // all read-write again: merged
    check_invariants();
}

TEST_F(VmTest, FixedNoReplace) {
    uint64_t a = map(0x10000000, 4 * kPage, kR | kW, kAnon | MAP_FIXED);
    EXPECT_EQ(map_err(a + 3 * kPage, 2 * kPage, kR, kAnon | MAP_FIXED_NOREPLACE), Errno::kEEXIST);
    EXPECT_EQ(map(a + 4 * kPage, kPage, kR, kAnon | MAP_FIXED_NOREPLACE), a + 4 * kPage);
    EXPECT_EQ(map_err(a, kPage, kR, kAnon | MAP_FIXED | MAP_FIXED_NOREPLACE), Errno::kEEXIST);
}

TEST_F(VmTest, MunmapPartialSplitsAndFrees) {
    uint64_t a = map(0, 8 * kPage, kR | kW);
    for (int i = 0; i < 8; i++) ASSERT_TRUE(write(a + i * kPage, 1));
    EXPECT_TRUE(vm->munmap(a + 2 * kPage, 3 * kPage).ok());
    EXPECT_EQ(vm->vmas().count(), 2u);
    EXPECT_EQ(vm->resident_pages(), 5u);
    EXPECT_EQ(read(a + 3 * kPage), -1);
    EXPECT_EQ(read(a + 5 * kPage), 1);
    EXPECT_TRUE(vm->munmap(a, 100).ok());  // length rounded up
    EXPECT_EQ(read(a), -1);
    EXPECT_TRUE(vm->munmap(0x50000000, kPage).ok());  // nothing there: fine
    EXPECT_EQ(vm->munmap(a + 1, kPage).error(), Errno::kEINVAL);
    EXPECT_EQ(vm->munmap(a, 0).error(), Errno::kEINVAL);
    EXPECT_EQ(vm->munmap(UserAddressSpace::kTop, kPage).error(), Errno::kEINVAL);
    // The freed range is reusable.
    EXPECT_EQ(map(a + 2 * kPage, 3 * kPage, kR, kAnon | MAP_FIXED_NOREPLACE), a + 2 * kPage);
    check_invariants();
}

TEST_F(VmTest, MprotectSplitsUpdatesPtesAndMerges) {
    uint64_t a = map(0, 4 * kPage, kR | kW);
    for (int i = 0; i < 4; i++) ASSERT_TRUE(write(a + i * kPage, uint8_t(10 + i)));
    ASSERT_TRUE(vm->mprotect(a + kPage, 2 * kPage, kR).ok());
    EXPECT_EQ(vm->vmas().count(), 3u);
    EXPECT_EQ(be.ptes.at(a + kPage).prot, kR);
    EXPECT_FALSE(write(a + kPage, 1));
    EXPECT_EQ(read(a + 2 * kPage), 12);
    EXPECT_TRUE(write(a + 3 * kPage, 1));
    ASSERT_TRUE(vm->mprotect(a + kPage, 2 * kPage, kR | kW).ok());
    EXPECT_EQ(vm->vmas().count(), 1u);
    EXPECT_TRUE(write(a + kPage, 1));
    // Holes: ENOMEM, and nothing changes.
    ASSERT_TRUE(vm->munmap(a + 2 * kPage, kPage).ok());
    EXPECT_EQ(vm->mprotect(a, 4 * kPage, kR).error(), Errno::kENOMEM);
    EXPECT_EQ(be.ptes.at(a).prot, kR | kW);
    EXPECT_EQ(vm->mprotect(a + 1, kPage, kR).error(), Errno::kEINVAL);
    EXPECT_EQ(vm->mprotect(a, kPage, 0x100).error(), Errno::kEINVAL);
    EXPECT_TRUE(vm->mprotect(a, 0, kR).ok());
    check_invariants();
}

TEST_F(VmTest, ProtNoneReservationCommittedPiecewise) {
    // glibc thread stacks and jemalloc arenas: reserve, then commit parts.
    uint64_t r = map(0, 8 << 20, 0, kAnon | MAP_NORESERVE | MAP_STACK);
    EXPECT_EQ(read(r), -1);
    ASSERT_TRUE(vm->mprotect(r + kPage, (1 << 20) - kPage, kR | kW).ok());
    EXPECT_EQ(read(r), -1);  // the guard page
    EXPECT_TRUE(write(r + kPage, 5));
    EXPECT_TRUE(write(r + (1 << 20) - 1, 5));
    EXPECT_FALSE(write(r + (1 << 20), 5));
    // PROT_NONE keeps the bytes; read-write brings them back.
    ASSERT_TRUE(vm->mprotect(r + kPage, kPage, 0).ok());
    EXPECT_EQ(read(r + kPage), -1);
    EXPECT_EQ(be.ptes.at(r + kPage).prot, 0);
    ASSERT_TRUE(vm->mprotect(r + kPage, kPage, kR | kW).ok());
    EXPECT_EQ(read(r + kPage), 5);
    EXPECT_EQ(vm->resident_pages(), 2u);
    check_invariants();
}

TEST_F(VmTest, ProtectionFaults) {
    uint64_t ro = map(0, kPage, kR);
    uint64_t rx = map(0, kPage, kR | kX);
    uint64_t wo = map(0, kPage, kW);
    EXPECT_EQ(vm->handle_fault(ro, Access::kWrite).error(), Errno::kEFAULT);
    EXPECT_EQ(vm->handle_fault(ro, Access::kExec).error(), Errno::kEFAULT);
    EXPECT_TRUE(vm->handle_fault(rx + 5, Access::kExec).ok());
    EXPECT_TRUE(vm->handle_fault(wo, Access::kRead).ok());  // x86: writable implies readable
    EXPECT_EQ(vm->handle_fault(0x50000000, Access::kRead).error(), Errno::kEFAULT);
    EXPECT_EQ(vm->handle_fault(0xffff800000000000ull, Access::kRead).error(), Errno::kEFAULT);
    EXPECT_EQ(vm->handle_fault(0, Access::kRead).error(), Errno::kEFAULT);
    // A second fault on a present page (stale TLB) is harmless.
    EXPECT_TRUE(vm->handle_fault(rx, Access::kRead).ok());
    EXPECT_EQ(vm->resident_pages(), 2u);
}

TEST_F(VmTest, PrepareChecksWholeRange) {
    uint64_t a = map(0x10000000, 2 * kPage, kR | kW, kAnon | MAP_FIXED);
    map(a + 2 * kPage, kPage, kR, kAnon | MAP_FIXED);
    EXPECT_TRUE(vm->prepare(a + 100, 3 * kPage - 200, Access::kRead).ok());
    EXPECT_EQ(vm->prepare(a + 100, 3 * kPage - 200, Access::kWrite).error(), Errno::kEFAULT);
    EXPECT_EQ(vm->prepare(a, 4 * kPage, Access::kRead).error(), Errno::kEFAULT);
    EXPECT_EQ(vm->prepare(a, ~0ull, Access::kRead).error(), Errno::kEFAULT);
    EXPECT_TRUE(vm->prepare(0, 0, Access::kRead).ok());
}

TEST_F(VmTest, BrkGrowShrinkAndFailures) {
    EXPECT_EQ(vm->brk(0), 0u);  // no base yet
    vm->set_brk_base(0x600123);
    const uint64_t base = 0x601000;
    EXPECT_EQ(vm->brk(0), base);
    EXPECT_EQ(vm->brk(base - 1), base);  // below the base: unchanged
    EXPECT_EQ(vm->brk(base + 3 * kPage + 5), base + 3 * kPage + 5);
    EXPECT_TRUE(write(base + 3 * kPage + 100, 7));  // the whole last page is usable
    EXPECT_TRUE(write(base, 1));
    EXPECT_EQ(vm->brk(base + 10 * kPage), base + 10 * kPage);
    EXPECT_EQ(vm->vmas().count(), 1u);  // grown in place
    EXPECT_EQ(vm->brk(base + kPage), base + kPage);
    EXPECT_EQ(read(base + 2 * kPage), -1);
    EXPECT_EQ(vm->resident_pages(), 1u);
    EXPECT_EQ(vm->brk(base + 4 * kPage), base + 4 * kPage);
    EXPECT_EQ(read(base + 3 * kPage + 100), 0);  // fresh zeroes after a shrink
    // A grow that would meet another mapping fails and keeps the old break.
    map(base + 8 * kPage, kPage, kR, kAnon | MAP_FIXED);
    EXPECT_EQ(vm->brk(base + 7 * kPage + 1), base + 4 * kPage);
    EXPECT_EQ(vm->brk(base + 7 * kPage), base + 7 * kPage);  // a page of gap remains
    EXPECT_EQ(vm->brk(UserAddressSpace::kTop), base + 7 * kPage);
    check_invariants();
}

TEST_F(VmTest, FileBackedFillWithZeroTail) {
    FakeFile f(10000);
    auto r = vm->mmap(0, 10000, kR, MAP_PRIVATE, &f, 0);
    ASSERT_TRUE(r.ok());
    uint64_t a = *r;
    EXPECT_EQ(read(a), f.data[0]);
    EXPECT_EQ(read(a + 5000), f.data[5000]);
    EXPECT_EQ(read(a + 8192 + 1807), f.data[9999]);
    EXPECT_EQ(read(a + 8192 + 1808), 0);  // past the end of the file
    // The mapping's file range ends at offset + len: the rest of its last
    // page is zero even where the file goes on (ELF bss).
    auto r2 = vm->mmap(0, 4096 + 904, kR | kW, MAP_PRIVATE, &f, 4096);
    ASSERT_TRUE(r2.ok());
    EXPECT_EQ(read(*r2), f.data[4096]);
    EXPECT_EQ(read(*r2 + 4096 + 903), f.data[4096 + 4096 + 903]);
    EXPECT_EQ(read(*r2 + 4096 + 904), 0);
    // Private: writes stay in memory; DONTNEED re-reads the file.
    EXPECT_TRUE(write(*r2 + 1, 0));
    EXPECT_EQ(f.data[4097], uint8_t(4097 * 7 + 3));
    ASSERT_TRUE(vm->madvise(*r2, kPage, MADV_DONTNEED).ok());
    EXPECT_EQ(read(*r2 + 1), f.data[4097]);
    EXPECT_EQ(vm->mmap(0, kPage, kR, MAP_PRIVATE, &f, 10).error(), Errno::kEINVAL);
    UserAddressSpace::destroy(vm);
    vm = *UserAddressSpace::create(be);
    EXPECT_FALSE(f.released);  // our own reference remains
    f.release();
    EXPECT_TRUE(f.released);
}

TEST_F(VmTest, ElfSegmentsOverReservation) {
    // ld.so: reserve the span with the file, then MAP_FIXED segments and an
    // anonymous bss; splitting keeps file offsets and references right.
    FakeFile f(5 * kPage);
    uint64_t base = *vm->mmap(0, 8 * kPage, kR, MAP_PRIVATE | MAP_DENYWRITE, &f, 0);
    ASSERT_TRUE(vm->mmap(base + kPage, 2 * kPage, kR | kX, MAP_PRIVATE | MAP_FIXED, &f, kPage).ok());
    ASSERT_TRUE(vm->mmap(base + 4 * kPage, kPage + 10, kR | kW, MAP_PRIVATE | MAP_FIXED, &f, 4 * kPage).ok());
    map(base + 6 * kPage, 2 * kPage, kR | kW, kAnon | MAP_FIXED);
    EXPECT_EQ(read(base + kPage + 3), f.data[kPage + 3]);
    EXPECT_TRUE(vm->handle_fault(base + 2 * kPage, Access::kExec).ok());
    EXPECT_EQ(read(base + 3 * kPage), f.data[3 * kPage]);  // the reservation's piece
    EXPECT_EQ(read(base + 5 * kPage + 9), f.data[5 * kPage - 1] * 0 + 0);  // past file
    EXPECT_EQ(read(base + 4 * kPage + 9), f.data[4 * kPage + 9]);
    EXPECT_EQ(read(base + 6 * kPage), 0);
    check_invariants();
    UserAddressSpace::destroy(vm);
    vm = *UserAddressSpace::create(be);
    f.release();
    EXPECT_TRUE(f.released);
}

TEST_F(VmTest, DontNeedZeroesAnonymousButNotShared) {
    uint64_t a = map(0, 2 * kPage, kR | kW);
    uint64_t s = map(0, kPage, kR | kW, MAP_SHARED | MAP_ANONYMOUS);
    ASSERT_TRUE(write(a, 3) && write(a + kPage, 4) && write(s, 5));
    ASSERT_TRUE(vm->madvise(a, kPage, MADV_DONTNEED).ok());
    EXPECT_EQ(read(a), 0);
    EXPECT_EQ(read(a + kPage), 4);
    ASSERT_TRUE(vm->madvise(s, kPage, MADV_DONTNEED).ok());
    EXPECT_EQ(read(s), 5);
    EXPECT_TRUE(vm->madvise(a, kPage, MADV_WILLNEED).ok());
    EXPECT_EQ(vm->madvise(a + 1, kPage, MADV_DONTNEED).error(), Errno::kEINVAL);
    EXPECT_EQ(vm->madvise(a, 16 * kPage, MADV_DONTNEED).error(), Errno::kENOMEM);
}

TEST_F(VmTest, OutOfMemory) {
    uint64_t a = map(0, 4 * kPage, kR | kW);
    be.frame_limit = 1;
    EXPECT_TRUE(write(a, 1));
    EXPECT_EQ(vm->handle_fault(a + kPage, Access::kWrite).error(), Errno::kENOMEM);
    EXPECT_EQ(be.oom_reports, 1);
    be.frame_limit = SIZE_MAX;
    be.map_failures = 1;  // no page-table page
    EXPECT_EQ(vm->handle_fault(a + kPage, Access::kWrite).error(), Errno::kENOMEM);
    EXPECT_TRUE(write(a + kPage, 1));
    // Bookkeeping exhausted: the array must grow past its first capacity.
    be.meta_fails = true;
    Errno e = Errno(0);
    for (int i = 0; i < 100 && e == Errno(0); i++) {
        auto r = vm->mmap(0x10000000 + i * 2 * kPage, kPage, kR, kAnon | MAP_FIXED, nullptr, 0);
        if (!r.ok()) e = r.error();
    }
    EXPECT_EQ(e, Errno::kENOMEM);
    be.meta_fails = false;
    check_invariants();
}

TEST_F(VmTest, MapCountLimit) {
    const uint64_t base = 0x10000000;
    map(base, 3 * kPage, kR | kW, kAnon | MAP_FIXED);
    uint64_t next = base + 4 * kPage;
    while (vm->vmas().count() < UserAddressSpace::kMaxMapCount) {
        ASSERT_TRUE(vm->mmap(next, kPage, kR, kAnon | MAP_FIXED, nullptr, 0).ok());
        next += 2 * kPage;
    }
    EXPECT_EQ(vm->mmap(next, kPage, kR, kAnon | MAP_FIXED, nullptr, 0).error(), Errno::kENOMEM);
    EXPECT_EQ(vm->munmap(base + kPage, kPage).error(), Errno::kENOMEM);  // would split
    EXPECT_TRUE(vm->munmap(base, 3 * kPage).ok());
}

TEST_F(VmTest, MremapInPlaceAndMoving) {
    uint64_t a = map(0x10000000, 2 * kPage, kR | kW, kAnon | MAP_FIXED);
    ASSERT_TRUE(write(a, 1) && write(a + kPage, 2));
    EXPECT_EQ(*vm->mremap(a, 2 * kPage, 4 * kPage, 0, 0), a);  // room after it
    EXPECT_TRUE(write(a + 3 * kPage, 4));
    map(a + 4 * kPage, kPage, kR, kAnon | MAP_FIXED);
    EXPECT_EQ(vm->mremap(a, 4 * kPage, 8 * kPage, 0, 0).error(), Errno::kENOMEM);
    auto moved = vm->mremap(a, 4 * kPage, 8 * kPage, MREMAP_MAYMOVE, 0);
    ASSERT_TRUE(moved.ok());
    uint64_t b = *moved;
    EXPECT_NE(b, a);
    EXPECT_EQ(read(a), -1);
    EXPECT_EQ(read(b), 1);
    EXPECT_EQ(read(b + kPage), 2);
    EXPECT_EQ(read(b + 3 * kPage), 4);
    EXPECT_EQ(read(b + 7 * kPage), 0);
    EXPECT_EQ(*vm->mremap(b, 8 * kPage, kPage, 0, 0), b);  // shrink
    EXPECT_EQ(read(b + kPage), -1);
    auto fixed = vm->mremap(b, kPage, kPage, MREMAP_MAYMOVE | MREMAP_FIXED, 0x20000000);
    ASSERT_TRUE(fixed.ok());
    EXPECT_EQ(read(0x20000000), 1);
    EXPECT_EQ(vm->mremap(0x30000000, kPage, kPage, MREMAP_MAYMOVE, 0).error(), Errno::kEFAULT);
    EXPECT_EQ(vm->mremap(0x20000000, kPage, kPage, MREMAP_FIXED, 0x40000000).error(), Errno::kEINVAL);
    be.map_failures = 1;  // moving needs a table page it cannot get
    EXPECT_EQ(vm->mremap(0x20000000, kPage, 2 * kPage, MREMAP_MAYMOVE | MREMAP_FIXED, 0x40000000).error(),
              Errno::kENOMEM);
    EXPECT_EQ(read(0x20000000), 1);
    check_invariants();
}

TEST_F(VmTest, GrowsDownStack) {
    const uint64_t top = 0x7ff000000000;
    map(top - kPage, kPage, kR | kW, kAnon | MAP_FIXED | MAP_GROWSDOWN);
    EXPECT_TRUE(write(top - 3 * kPage - 8, 1));
    EXPECT_EQ(vm->vmas()[0].start, top - 4 * kPage);
    EXPECT_FALSE(write(top - (9 << 20), 1));  // beyond the stack limit
    // Placement keeps the guard gap below the stack free.
    vm->set_mmap_top(top);
    uint64_t m = map(0, kPage, kR);
    EXPECT_LE(m + kPage, top - 4 * kPage - UserAddressSpace::kStackGuardGap);
    check_invariants();
}

TEST_F(VmTest, MsyncAndMincore) {
    uint64_t a = map(0, 3 * kPage, kR | kW);
    ASSERT_TRUE(write(a + kPage, 1));
    EXPECT_TRUE(vm->msync(a, 3 * kPage, MS_SYNC).ok());
    EXPECT_EQ(vm->msync(a, 3 * kPage, MS_SYNC | MS_ASYNC).error(), Errno::kEINVAL);
    EXPECT_EQ(vm->msync(a, 4 * kPage, MS_ASYNC).error(), Errno::kENOMEM);
    uint8_t vec[3];
    ASSERT_TRUE(vm->mincore(a, 3, vec).ok());
    EXPECT_EQ(vec[0], 0);
    EXPECT_EQ(vec[1], 1);
    EXPECT_EQ(vm->mincore(a, 4, vec).error(), Errno::kENOMEM);
}

// Random operations on a 64-page arena against a per-page model.
TEST_F(VmTest, RandomOperationsMatchModel) {
    struct Page {
        bool mapped = false;
        int prot = 0;
        uint8_t val = 0;
    };
    constexpr int kPages = 64;
    const uint64_t arena = 0x40000000;
    std::vector<Page> model(kPages);
    std::mt19937 rng(1234);
    auto rnd = [&](int n) { return int(rng() % n); };
    const int prots[] = {0, kR, kR | kW, kR | kX, kR | kW | kX};
    for (int step = 0; step < 4000; step++) {
        int first = rnd(kPages);
        int n = 1 + rnd(std::min(8, kPages - first));
        uint64_t va = arena + first * kPage;
        switch (rnd(6)) {
            case 0: {  // MAP_FIXED
                int prot = prots[rnd(5)];
                ASSERT_TRUE(vm->mmap(va, n * kPage, prot, kAnon | MAP_FIXED, nullptr, 0).ok());
                for (int i = first; i < first + n; i++) model[i] = Page{true, prot, 0};
                break;
            }
            case 1:
                ASSERT_TRUE(vm->munmap(va, n * kPage).ok());
                for (int i = first; i < first + n; i++) model[i] = Page{};
                break;
            case 2: {
                int prot = prots[rnd(5)];
                bool all = true;
                for (int i = first; i < first + n; i++) all &= model[i].mapped;
                auto r = vm->mprotect(va, n * kPage, prot);
                ASSERT_EQ(r.ok(), all);
                if (all) {
                    for (int i = first; i < first + n; i++) model[i].prot = prot;
                }
                break;
            }
            case 3: {
                bool all = true;
                for (int i = first; i < first + n; i++) all &= model[i].mapped;
                ASSERT_EQ(vm->madvise(va, n * kPage, MADV_DONTNEED).ok(), all);
                for (int i = first; i < first + n; i++) model[i].val = 0;
                break;
            }
            default: {  // touch
                uint8_t v = uint8_t(1 + rnd(250));
                bool ok = write(va + 7, v);
                ASSERT_EQ(ok, model[first].mapped && (model[first].prot & kW)) << step;
                if (ok) model[first].val = v;
                break;
            }
        }
        if (step % 50 == 0 || step > 3900) {
            for (int i = 0; i < kPages; i++) {
                int got = read(arena + i * kPage + 7);
                int want = model[i].mapped && model[i].prot ? model[i].val : -1;
                ASSERT_EQ(got, want) << "step " << step << " page " << i;
            }
            check_invariants();
        }
    }
}

}  // namespace
