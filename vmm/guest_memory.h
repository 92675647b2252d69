// Guest RAM: one anonymous mapping, shown to the guest as one or two ranges
// (below the MMIO hole and above 4 GiB, as lib/abi/boot.h lays out). Every
// access to guest memory from the monitor goes through span(), which checks
// the guest-supplied address and length for overflow and bounds.
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "kiln/result.h"
#include "kiln/span.h"

namespace kiln::vmm {

struct RamRange {
    uint64_t gpa;
    uint64_t size;
    uint8_t* host;
};

class GuestMemory {
public:
    // Reserves `size` bytes of RAM (MAP_NORESERVE: pages are only allocated
    // when the guest touches them). ENOMEM when the mapping fails.
    static Result<GuestMemory> create(uint64_t size);

    uint64_t size() const { return size_; }
    // End of the RAM range that starts at 0 (at most kMmioHoleStart).
    uint64_t low_end() const { return ranges_[0].size; }
    size_t range_count() const { return range_count_; }
    const RamRange& range(size_t i) const { return ranges_[i]; }
    uint8_t* host_base() const { return ranges_[0].host; }

    // The host view of guest-physical [gpa, gpa+len), which must lie inside
    // one RAM range: EFAULT otherwise (including on overflow).
    Result<Span<uint8_t>> span(uint64_t gpa, uint64_t len) const;
    // A pointer to a T at gpa, which must be aligned to alignof(T).
    template <typename T>
    Result<T*> object(uint64_t gpa) const {
        if (gpa % alignof(T) != 0) return Error(Errno::kEFAULT);
        Span<uint8_t> s = TRY(span(gpa, sizeof(T)));
        // SAFETY: s is inside guest RAM, aligned for T and sizeof(T) long; T
        // is a plain struct of fixed-width fields that any bytes are valid for.
        return reinterpret_cast<T*>(s.data());
    }

    // Number of guest pages the host has backed (guest-touched memory),
    // counted with mincore(). `scratch` must hold one byte per page.
    uint64_t resident_pages(uint8_t* scratch) const;
    size_t page_count() const { return size_ / 4096; }

private:
    uint64_t size_ = 0;
    RamRange ranges_[2] = {};
    size_t range_count_ = 0;
};

}  // namespace kiln::vmm
