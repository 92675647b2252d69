// Random bytes for the kernel and the application (getrandom, /dev/urandom,
// AT_RANDOM): a ChaCha20-based generator seeded from RDSEED/RDRAND (and the
// TSC as a last resort where the CPU has neither).
#pragma once

#include <stddef.h>

namespace kiln::dev {

void random_bytes(void* buf, size_t n);

}  // namespace kiln::dev
