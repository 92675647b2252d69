// ChaCha20 block function, RFC 8439 section 2.3, and the DRBG (chacha20.h).
#include "dev/chacha20.h"

namespace kiln::dev {
namespace {

constexpr uint32_t rotl(uint32_t v, int n) { return v << n | v >> (32 - n); }

// RFC 8439 2.1: the quarter round.
inline void quarter(uint32_t* s, int a, int b, int c, int d) {
    s[a] += s[b]; s[d] ^= s[a]; s[d] = rotl(s[d], 16);
    s[c] += s[d]; s[b] ^= s[c]; s[b] = rotl(s[b], 12);
    s[a] += s[b]; s[d] ^= s[a]; s[d] = rotl(s[d], 8);
    s[c] += s[d]; s[b] ^= s[c]; s[b] = rotl(s[b], 7);
}

void store_le32(uint8_t* p, uint32_t v) {
    p[0] = static_cast<uint8_t>(v);
    p[1] = static_cast<uint8_t>(v >> 8);
    p[2] = static_cast<uint8_t>(v >> 16);
    p[3] = static_cast<uint8_t>(v >> 24);
}

uint32_t load_le32(const uint8_t* p) {
    return static_cast<uint32_t>(p[0]) | static_cast<uint32_t>(p[1]) << 8 |
           static_cast<uint32_t>(p[2]) << 16 | static_cast<uint32_t>(p[3]) << 24;
}

}  // namespace

void chacha20_block(const uint32_t key[8], uint32_t counter, const uint32_t nonce[3],
                    uint8_t out[64]) {
    // RFC 8439 2.3: constants, key, counter, nonce.
    uint32_t init[16] = {0x61707865, 0x3320646e, 0x79622d32, 0x6b206574};
    for (int i = 0; i < 8; i++) init[4 + i] = key[i];
    init[12] = counter;
    for (int i = 0; i < 3; i++) init[13 + i] = nonce[i];
    uint32_t s[16];
    for (int i = 0; i < 16; i++) s[i] = init[i];
    for (int round = 0; round < 10; round++) {  // 20 rounds: 10 column + 10 diagonal
        quarter(s, 0, 4, 8, 12);
        quarter(s, 1, 5, 9, 13);
        quarter(s, 2, 6, 10, 14);
        quarter(s, 3, 7, 11, 15);
        quarter(s, 0, 5, 10, 15);
        quarter(s, 1, 6, 11, 12);
        quarter(s, 2, 7, 8, 13);
        quarter(s, 3, 4, 9, 14);
    }
    for (int i = 0; i < 16; i++) store_le32(out + 4 * i, s[i] + init[i]);
    for (uint32_t& w : s) w = 0;
}

void ChaChaDrbg::reseed(const void* seed, size_t n) {
    // Fold the seed into the key 32 bytes at a time, each time through the
    // block function, so any amount of entropy counts.
    const auto* p = static_cast<const uint8_t*>(seed);
    while (n > 0) {
        size_t chunk = n < 32 ? n : 32;
        uint8_t k[32];
        for (int i = 0; i < 8; i++) store_le32(k + 4 * i, key_[i]);
        for (size_t i = 0; i < chunk; i++) k[i] ^= p[i];
        for (int i = 0; i < 8; i++) key_[i] = load_le32(k + 4 * i);
        rekey();
        p += chunk;
        n -= chunk;
    }
    since_reseed_ = 0;
    seeded_ = true;
}

void ChaChaDrbg::rekey() {
    uint8_t block[64];
    nonce_[0]++;
    chacha20_block(key_, 0, nonce_, block);
    for (int i = 0; i < 8; i++) key_[i] = load_le32(block + 4 * i);
    for (uint8_t& b : block) b = 0;
}

void ChaChaDrbg::generate(void* out, size_t n) {
    auto* o = static_cast<uint8_t*>(out);
    since_reseed_ += n;
    nonce_[1]++;
    uint32_t counter = 1;  // block 0 of this nonce is never output
    uint8_t block[64];
    while (n > 0) {
        chacha20_block(key_, counter++, nonce_, block);
        if (counter == 0) nonce_[2]++;  // 256 GiB in one call: change the nonce
        size_t chunk = n < 64 ? n : 64;
        for (size_t i = 0; i < chunk; i++) o[i] = block[i];
        o += chunk;
        n -= chunk;
    }
    for (uint8_t& b : block) b = 0;
    rekey();
}

}  // namespace kiln::dev
