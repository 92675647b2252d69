// What kernel/fs needs from the machine, kept behind three functions so the
// tree and path logic build on the host too: the kernel backs them with the
// frame allocator and the wall clock (platform.cpp), host tests with malloc
// and a counter.
#pragma once

#include <stdint.h>

namespace kiln::fs {

// One zero-filled or not 4 KiB page for file data; nullptr when memory is
// exhausted.
void* alloc_page();
void free_page(void* page);
// Nanoseconds since the Unix epoch, for timestamps.
int64_t now_ns();

}  // namespace kiln::fs
