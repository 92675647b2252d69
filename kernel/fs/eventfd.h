// eventfd(2): a 64-bit counter as a file. Reads take the counter (or 1 in
// semaphore mode) and answer EAGAIN at zero; writes add to it and answer
// EAGAIN while the sum would pass 0xfffffffffffffffe; buffers under 8 bytes
// and a write of 0xffffffffffffffff are EINVAL. The file layer blocks on
// EAGAIN unless O_NONBLOCK. Pure: host-tested.
#pragma once

#include <stdint.h>

#include "fs/inode.h"

namespace kiln::fs {

inline constexpr uint64_t kEventfdMax = 0xfffffffffffffffeull;

// A new eventfd inode holding initval (one reference); nullptr on ENOMEM.
Inode* make_eventfd(uint64_t initval, bool semaphore);

}  // namespace kiln::fs
