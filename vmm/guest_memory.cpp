#include "guest_memory.h"

#include <errno.h>
#include <sys/mman.h>

#include "abi/boot.h"

namespace kiln::vmm {

Result<GuestMemory> GuestMemory::create(uint64_t size) {
    // Anonymous memory reads as zero, so nothing is cleared here: the kernel's
    // bss and every table the monitor builds start out zeroed for free.
    void* p = mmap(nullptr, size, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (p == MAP_FAILED) return Error(Errno::kENOMEM);
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
