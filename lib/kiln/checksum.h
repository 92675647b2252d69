// The Internet checksum (RFC 1071): the ones' complement of the ones'
// complement sum of 16-bit big-endian words. It runs over every packet, so
// the sum accumulates eight bytes at a time in 64 bits (RFC 1071 §2(B): the
// sum is independent of byte order and word size as long as it is folded in
// the end) and partial sums over pieces combine by plain addition.
#pragma once

#include <stddef.h>
#include <stdint.h>

namespace kiln {

// The ones' complement sum of [data, data+len) added to `sum`, not folded
// to 16 bits. The bytes are summed as if the piece started at an even
// offset of the whole; pieces with odd lengths must come last.
uint64_t csum_partial(const void* data, size_t len, uint64_t sum);

// Folds a partial sum to 16 bits in network byte order (as stored in the
// packet), without complementing.
uint16_t csum_fold(uint64_t sum);

// The checksum field's value: the complement of the folded sum.
inline uint16_t csum_finish(uint64_t sum) {
    return static_cast<uint16_t>(~csum_fold(sum));
}

// The 16-bit checksum of [data, data+len), as stored (big-endian value).
inline uint16_t internet_checksum(const void* data, size_t len) {
    return csum_finish(csum_partial(data, len, 0));
}

}  // namespace kiln
