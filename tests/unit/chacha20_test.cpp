// kernel/dev/chacha20: the block function against RFC 8439's test vector
// (section 2.3.2) and the DRBG's basic properties.
#include "dev/chacha20.h"

#include <gtest/gtest.h>

#include <set>
#include <vector>

using kiln::dev::ChaChaDrbg;
using kiln::dev::chacha20_block;

TEST(ChaCha20, Rfc8439BlockTestVector) {
    // RFC 8439 2.3.2: key 00:01:..:1f, nonce 00:00:00:09:00:00:00:4a:00:00:00:00,
    // block count 1.
    uint8_t key_bytes[32];
    for (int i = 0; i < 32; i++) key_bytes[i] = static_cast<uint8_t>(i);
    uint32_t key[8];
    for (int i = 0; i < 8; i++) {
        key[i] = key_bytes[4 * i] | key_bytes[4 * i + 1] << 8 | key_bytes[4 * i + 2] << 16 |
                 static_cast<uint32_t>(key_bytes[4 * i + 3]) << 24;
    }
    const uint32_t nonce[3] = {0x09000000, 0x4a000000, 0x00000000};
    uint8_t out[64];
    chacha20_block(key, 1, nonce, out);
    const uint8_t want[64] = {
        0x10, 0xf1, 0xe7, 0xe4, 0xd1, 0x3b, 0x59, 0x15, 0x50, 0x0f, 0xdd, 0x1f, 0xa3, 0x20, 0x71, 0xc4,
        0xc7, 0xd1, 0xf4, 0xc7, 0x33, 0xc0, 0x68, 0x03, 0x04, 0x22, 0xaa, 0x9a, 0xc3, 0xd4, 0x6c, 0x4e,
        0xd2, 0x82, 0x64, 0x46, 0x07, 0x9f, 0xaa, 0x09, 0x14, 0xc2, 0xd7, 0x05, 0xd9, 0x8b, 0x02, 0xa2,
        0xb5, 0x12, 0x9c, 0xd1, 0xde, 0x16, 0x4e, 0xb9, 0xcb, 0xd0, 0x83, 0xe8, 0xa2, 0x50, 0x3c, 0x4e};
    EXPECT_EQ(std::vector<uint8_t>(out, out + 64), std::vector<uint8_t>(want, want + 64));
}

TEST(ChaCha20, DrbgOutputDiffersAndDependsOnSeed) {
    ChaChaDrbg a, b;
    EXPECT_FALSE(a.seeded());
    a.reseed("seed one", 8);
    b.reseed("seed two", 8);
    EXPECT_TRUE(a.seeded());
    uint8_t x[100], y[100], z[100];
    a.generate(x, sizeof x);
    a.generate(y, sizeof y);
    b.generate(z, sizeof z);
    EXPECT_NE(std::vector<uint8_t>(x, x + 100), std::vector<uint8_t>(y, y + 100));
    EXPECT_NE(std::vector<uint8_t>(x, x + 100), std::vector<uint8_t>(z, z + 100));
    EXPECT_EQ(a.since_reseed(), 200u);
    // Same seed, same stream (deterministic).
    ChaChaDrbg c;
    c.reseed("seed one", 8);
    uint8_t w[100];
    c.generate(w, sizeof w);
    EXPECT_EQ(std::vector<uint8_t>(x, x + 100), std::vector<uint8_t>(w, w + 100));
    // Bytes look spread out.
    std::set<uint8_t> seen;
    uint8_t big[4096];
    a.generate(big, sizeof big);
    for (uint8_t v : big) seen.insert(v);
    EXPECT_GT(seen.size(), 250u);
}
