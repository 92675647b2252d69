// Helpers shared by the fuzz targets: an invariant check that aborts (so
// both libFuzzer and the replay driver report it as a crash), a way to read
// every byte of a returned range (so ASan sees a bad bound), and a range test.
#pragma once

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#define FUZZ_CHECK(cond)                                                              \
    do {                                                                              \
        if (!(cond)) {                                                                \
            fprintf(stderr, "%s:%d: invariant violated: %s\n", __FILE__, __LINE__, #cond); \
            abort();                                                                  \
        }                                                                             \
    } while (0)

namespace kiln::fuzz {

inline volatile uint8_t touch_sink;

// Reads every byte of [p, p+n); the volatile sink keeps the loads.
inline void touch(const void* p, size_t n) {
    const uint8_t* b = static_cast<const uint8_t*>(p);
    uint8_t acc = 0;
    for (size_t i = 0; i < n; ++i) acc ^= b[i];
    touch_sink = acc;
}

// True when [p, p+n) lies inside [base, base+size). An empty range may sit
// anywhere inside or at the end, or be null.
inline bool within(const void* p, size_t n, const void* base, size_t size) {
    if (n == 0 && p == nullptr) return true;
    uintptr_t a = reinterpret_cast<uintptr_t>(p);
    uintptr_t lo = reinterpret_cast<uintptr_t>(base);
    if (a < lo || a - lo > size) return false;
    return n <= size - (a - lo);
}

}  // namespace kiln::fuzz
