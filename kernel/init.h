#pragma once

#include "boot_info.h"

namespace kiln {

// Runs the program the initrd names and never returns; returns when the
// boot has no initrd or the image names no program.
void run_image_program(const BootInfo& boot);

}  // namespace kiln
