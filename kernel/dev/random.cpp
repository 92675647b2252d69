// Random bytes (random.h): a ChaCha20 DRBG seeded from RDSEED, else RDRAND,
// else (with a warning) TSC jitter, and reseeded after every 1 MiB of output
// and every second. CPUID leaf 1 ECX bit 30 announces RDRAND, leaf 7 EBX bit
// 18 RDSEED (Intel SDM vol. 2, CPUID).
#include "dev/random.h"

#include <stdint.h>

#include "arch/x86_64/clock.h"
#include "dev/chacha20.h"
#include "klog.h"

namespace kiln::dev {
namespace {

ChaChaDrbg g_drbg;
bool g_probed = false;
bool g_has_rdseed = false;
bool g_has_rdrand = false;
uint64_t g_last_reseed_ns = 0;

constexpr uint64_t kReseedBytes = 1 << 20;
constexpr uint64_t kReseedNs = 1000000000;

void cpuid(uint32_t leaf, uint32_t sub, uint32_t* a, uint32_t* b, uint32_t* c, uint32_t* d) {
    asm volatile("cpuid" : "=a"(*a), "=b"(*b), "=c"(*c), "=d"(*d) : "a"(leaf), "c"(sub));
}

void probe() {
    uint32_t a, b, c, d;
    cpuid(0, 0, &a, &b, &c, &d);
    uint32_t max_leaf = a;
    cpuid(1, 0, &a, &b, &c, &d);
    g_has_rdrand = c & (1u << 30);
    if (max_leaf >= 7) {
        cpuid(7, 0, &a, &b, &c, &d);
        g_has_rdseed = b & (1u << 18);
    }
    g_probed = true;
}

bool rdseed64(uint64_t* v) {
    for (int i = 0; i < 64; i++) {
        uint8_t ok;
        asm volatile("rdseed %0; setc %1" : "=r"(*v), "=qm"(ok)::"cc");
        if (ok) return true;
        asm volatile("pause");
    }
    return false;
}

bool rdrand64(uint64_t* v) {
    for (int i = 0; i < 16; i++) {
        uint8_t ok;
        asm volatile("rdrand %0; setc %1" : "=r"(*v), "=qm"(ok)::"cc");
        if (ok) return true;
    }
    return false;
}

uint64_t rdtsc() {
    uint32_t lo, hi;
    asm volatile("rdtsc" : "=a"(lo), "=d"(hi));
    return static_cast<uint64_t>(hi) << 32 | lo;
}

void reseed() {
    if (!g_probed) probe();
    uint64_t seed[8];
    int got = 0;
    for (int i = 0; i < 8; i++) {
        uint64_t v = 0;
        if ((g_has_rdseed && rdseed64(&v)) || (g_has_rdrand && rdrand64(&v))) got++;
        seed[i] = v ^ rdtsc();
    }
    if (got == 0) {
        static bool warned = false;
        if (!warned) {
            klog::warn("kiln: no RDSEED/RDRAND; random bytes are seeded from the TSC only");
            warned = true;
        }
        // Timing jitter of a few CPUID exits: weak, but better than nothing.
        for (int i = 0; i < 8; i++) {
            uint32_t a, b, c, d;
            uint64_t t0 = rdtsc();
            cpuid(0, 0, &a, &b, &c, &d);
            seed[i] ^= (rdtsc() - t0) << (i * 7 % 64) ^ arch::wall_ns();
        }
    }
    g_drbg.reseed(seed, sizeof seed);
    for (uint64_t& s : seed) s = 0;
    g_last_reseed_ns = arch::monotonic_ns();
}

}  // namespace

void random_bytes(void* buf, size_t n) {
    if (!g_drbg.seeded() || g_drbg.since_reseed() >= kReseedBytes ||
        arch::monotonic_ns() - g_last_reseed_ns >= kReseedNs) {
        reseed();
    }
    g_drbg.generate(buf, n);
}

}  // namespace kiln::dev
