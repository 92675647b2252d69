#include "kiln/ksyms.h"

namespace kiln {

bool ksym_lookup(const KsymTable& table, uint64_t addr, const char** name, uint64_t* offset) {
    if (table.count == 0 || addr < table.addrs[0]) return false;
    // Invariant: addrs[lo] <= addr, and addr < addrs[hi] when hi < count.
    uint32_t lo = 0;
    uint32_t hi = table.count;
    while (hi - lo > 1) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (table.addrs[mid] <= addr) {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    // Step back over duplicates so the first of equal addresses names it.
    while (lo > 0 && table.addrs[lo - 1] == table.addrs[lo]) --lo;
    if (name != nullptr) *name = table.names + table.name_offsets[lo];
    if (offset != nullptr) *offset = addr - table.addrs[lo];
    return true;
}

}  // namespace kiln
