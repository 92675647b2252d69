#include "guest_memory.h"

#include <errno.h>
#include <sys/mman.h>

#include "abi/boot.h"

namespace kiln::vmm {

Result<GuestMemory> GuestMemory::create(uint64_t size) {
    // Anonymous memory reads as zero, so nothing is cleared here: the kernel's
    // bss and every table the monitor builds start out zeroed for free.
    // The mapping starts on a 2 MiB boundary so that guest and host huge
    // pages line up.
    constexpr uint64_t k2M = 2ull << 20;
    void* raw = mmap(nullptr, size + k2M, PROT_READ | PROT_WRITE,
                     MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (raw == MAP_FAILED) return Error(Errno::kENOMEM);
    const uintptr_t start = reinterpret_cast<uintptr_t>(raw);
    const uintptr_t aligned = (start + k2M - 1) & ~(k2M - 1);
    if (aligned > start) munmap(raw, aligned - start);
    if (start + k2M > aligned) munmap(reinterpret_cast<void*>(aligned + size), start + k2M - aligned);
    void* p = reinterpret_cast<void*>(aligned);
    // Every first touch of a guest page costs a host fault and a shadow
    // page-table update (~4 us measured on kvm-pvm); the kernel, its tables
    // and its early heap all live in the low 4 MiB, so those are huge pages:
    // a boot touches two pages there instead of about a hundred.
    madvise(p, size < 2 * k2M ? size : 2 * k2M, MADV_HUGEPAGE);
    GuestMemory m;
    m.size_ = size;
    uint8_t* host = static_cast<uint8_t*>(p);
    uint64_t low = size < abi::kMmioHoleStart ? size : abi::kMmioHoleStart;
    m.ranges_[0] = RamRange{0, low, host};
    m.range_count_ = 1;
    if (size > low) {
        m.ranges_[1] = RamRange{abi::kMmioHoleEnd, size - low, host + low};
        m.range_count_ = 2;
    }
    return m;
}

Result<Span<uint8_t>> GuestMemory::span(uint64_t gpa, uint64_t len) const {
    for (size_t i = 0; i < range_count_; ++i) {
        const RamRange& r = ranges_[i];
        if (gpa < r.gpa) continue;
        uint64_t off = gpa - r.gpa;
        // off <= size and len <= size - off: no sum that could overflow.
        if (off > r.size || len > r.size - off) continue;
        return Span<uint8_t>(r.host + off, len);
    }
    return Error(Errno::kEFAULT);
}

uint64_t GuestMemory::resident_pages(uint8_t* scratch) const {
    if (mincore(host_base(), size_, scratch) != 0) return 0;
    uint64_t n = 0;
    for (size_t i = 0; i < page_count(); ++i) n += scratch[i] & 1;
    return n;
}

}  // namespace kiln::vmm
