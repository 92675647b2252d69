// ChaCha20 (RFC 8439, section 2.3: the block function) and a deterministic
// random bit generator built on it with fast key erasure: every request ends
// by replacing the key with fresh output, so a later compromise of the state
// does not reveal earlier output. Host-testable; kernel/dev/random seeds it.
#pragma once

#include <stddef.h>
#include <stdint.h>

namespace kiln::dev {

// One 64-byte block for key (8 words), block counter and nonce (3 words),
// serialised little-endian as RFC 8439 2.3 says.
void chacha20_block(const uint32_t key[8], uint32_t counter, const uint32_t nonce[3],
                    uint8_t out[64]);

class ChaChaDrbg {
public:
    // Mixes seed material into the key (any length; more is fine).
    void reseed(const void* seed, size_t n);
    void generate(void* out, size_t n);
    // Bytes produced since the last reseed.
    uint64_t since_reseed() const { return since_reseed_; }
    bool seeded() const { return seeded_; }

private:
    void rekey();
    uint32_t key_[8] = {};
    uint32_t nonce_[3] = {};
    uint64_t since_reseed_ = 0;
    bool seeded_ = false;
};

}  // namespace kiln::dev
