// getrandom(2): flag checks and the copy to the app in small chunks, so no
// large kernel buffer is needed and a fault part-way returns the bytes
// already delivered, as Linux does. kiln's generator is seeded at boot and
// never blocks, so GRND_NONBLOCK, GRND_RANDOM and GRND_INSECURE change
// nothing. Pure, host-tested.
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "kiln/result.h"

namespace kiln::sys {

inline constexpr uint32_t kGrndNonblock = 0x1;
inline constexpr uint32_t kGrndRandom = 0x2;
inline constexpr uint32_t kGrndInsecure = 0x4;
// MAX_RW_COUNT: one call returns at most INT_MAX rounded down to a page.
inline constexpr size_t kMaxRwCount = 0x7ffff000;
inline constexpr size_t kGetrandomChunk = 256;

// EINVAL for unknown flags, or GRND_INSECURE together with GRND_RANDOM.
inline Result<void> check_getrandom_flags(uint32_t flags) {
    if (flags & ~(kGrndNonblock | kGrndRandom | kGrndInsecure)) return Error(Errno::kEINVAL);
    if ((flags & kGrndInsecure) && (flags & kGrndRandom)) return Error(Errno::kEINVAL);
    return {};
}

// Fills [dst, dst+len) through fill(void*, size_t) and
// copy(uint64_t, const void*, size_t) -> Result<void>, a chunk at a time.
// Returns the byte count, or the copy's error when not even one chunk
// arrived.
template <typename Fill, typename Copy>
Result<size_t> getrandom_chunked(uint64_t dst, size_t len, Fill fill, Copy copy) {
    if (len > kMaxRwCount) len = kMaxRwCount;
    uint8_t chunk[kGetrandomChunk];
    size_t done = 0;
    while (done < len) {
        const size_t n = len - done < sizeof(chunk) ? len - done : sizeof(chunk);
        fill(chunk, n);
        Result<void> r = copy(dst + done, chunk, n);
        if (!r.ok()) {
            if (done == 0) return Error(r.error());
            break;
        }
        done += n;
    }
    // Leave no copy of the app's random bytes on the kernel stack.
    for (size_t i = 0; i < sizeof(chunk); i++) static_cast<volatile uint8_t*>(chunk)[i] = 0;
    return done;
}

}  // namespace kiln::sys
