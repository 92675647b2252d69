// The virtual file system: one tree built from the initrd modules, with
// /tmp, /dev, /proc and /sys, writable in memory (writes never touch the
// initrd). This header is what other subsystems use; kernel/fs keeps the rest.
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "boot_info.h"
#include "fs/inode.h"
#include "kiln/result.h"

namespace kiln::fs {

// Builds the root file system from the boot modules (cpio newc archives,
// unpacked in order) and the kernel's own nodes.
Result<void> mount_root(const BootInfo& boot);

// Resolves an absolute path, or one relative to the current process's
// working directory. The Inode is retained: release() it when done.
// follow_last: resolve a final symlink (stat) or not (lstat).
Result<Inode*> lookup_path(const char* path, bool follow_last = true);

// Sets up fds 0, 1, 2 (stdin, stdout, stderr on the console) and the
// working directory of the process.
Result<void> init_process_files();

}  // namespace kiln::fs
