// Host stand-ins for what kernel/fs takes from the machine (fs/platform.h)
// and a heap for kernel code under test.
#pragma once

#include <stddef.h>

namespace kiln_test {

// Points the kernel heap at malloc'd pages (never returned: other tests
// may have left slabs from their own page source).
void use_malloc_heap();
// File-data pages currently handed out through fs::alloc_page.
size_t fs_pages_live();
// Makes fs::alloc_page fail after n more pages (-1: never).
void fs_fail_pages_after(long n);

}  // namespace kiln_test
