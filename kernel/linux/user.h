// Access to the application's memory. The kernel reads and writes app
// memory only through these: each checks that the range lies in the user
// half and in mappings that allow the access (faulting demand pages in),
// and answers EFAULT otherwise, so a bad pointer from the app is an error
// value, never a kernel crash.
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "kiln/result.h"

namespace kiln::sys {

inline constexpr uint64_t kUserTop = 0x0000800000000000ull;  // first non-user address

Result<void> copy_from_user(void* dst, uint64_t src, size_t n);
Result<void> copy_to_user(uint64_t dst, const void* src, size_t n);
Result<void> clear_user(uint64_t dst, size_t n);
// Copies a NUL-terminated string of at most cap-1 bytes plus the NUL;
// returns its length. ENAMETOOLONG when no NUL is found within cap bytes.
Result<size_t> copy_string_from_user(char* dst, uint64_t src, size_t cap);

template <typename T>
Result<T> read_user(uint64_t addr) {
    T v;
    TRY(copy_from_user(&v, addr, sizeof(T)));
    return v;
}

template <typename T>
Result<void> write_user(uint64_t addr, const T& v) {
    return copy_to_user(addr, &v, sizeof(T));
}

}  // namespace kiln::sys
