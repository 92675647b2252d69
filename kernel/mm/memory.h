// The kernel's memory at run time: its address space, the physical frame
// allocator and the heap, brought up from the boot memory map.
#pragma once

#include <stddef.h>

#include "boot_info.h"
#include "kiln/result.h"
#include "mm/frame_allocator.h"
#include "mm/heap.h"

namespace kiln::mm {

// Builds the kernel's page tables (W^X image, direct map, no lower half),
// switches to them, then starts the frame allocator and the heap
// (heap_alloc/heap_free, mm/heap.h; nullptr when memory is exhausted).
Result<void> init_memory(const BootInfo& boot);

FrameAllocator& frames();

}  // namespace kiln::mm
