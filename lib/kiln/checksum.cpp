// The Internet checksum (checksum.h). The words are summed in the machine's
// byte order and the result swapped to big-endian at the end, which RFC
// 1071 §2(B) shows is equivalent; carries out of 64 bits are added back.
#include "kiln/checksum.h"

namespace kiln {

namespace {

inline uint64_t add_carry(uint64_t a, uint64_t b) {
    uint64_t s = a + b;
    return s + (s < a ? 1 : 0);
}

inline uint64_t load64(const uint8_t* p) {
    uint64_t v;
    __builtin_memcpy(&v, p, 8);
    return v;
}

}  // namespace

uint64_t csum_partial(const void* data, size_t len, uint64_t sum) {
    const auto* p = static_cast<const uint8_t*>(data);
    // Four independent 64-bit loads per round keep the adder busy; each
    // carry is folded back at once.
    while (len >= 32) {
        sum = add_carry(sum, load64(p));
        sum = add_carry(sum, load64(p + 8));
        sum = add_carry(sum, load64(p + 16));
        sum = add_carry(sum, load64(p + 24));
        p += 32;
        len -= 32;
    }
    while (len >= 8) {
        sum = add_carry(sum, load64(p));
        p += 8;
        len -= 8;
    }
    if (len > 0) {
        // The tail, zero-padded to 8 bytes, in memory order.
        uint8_t tail[8] = {};
        __builtin_memcpy(tail, p, len);
        sum = add_carry(sum, load64(tail));
    }
    return sum;
}

uint16_t csum_fold(uint64_t sum) {
    // 64 -> 32 -> 16 bits with end-around carries.
    uint64_t s = (sum & 0xffffffffu) + (sum >> 32);
    s = (s & 0xffffffffu) + (s >> 32);
    s = (s & 0xffff) + (s >> 16);
    s = (s & 0xffff) + (s >> 16);
    uint16_t host = static_cast<uint16_t>(s);
    // The sum was taken in little-endian words; the stored field is the
    // bytes of the big-endian sum, which on x86 is the same 16-bit value
    // read back in memory order. Return it so that storing it with
    // store_be16() writes the right bytes.
    return static_cast<uint16_t>((host >> 8) | (host << 8));
}

}  // namespace kiln
