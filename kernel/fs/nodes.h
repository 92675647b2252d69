// The kernel's own nodes: /dev (devices.cpp), /proc and /sys (procfs.cpp),
// and the console files behind fds 0, 1 and 2.
#pragma once

#include "fs/tree.h"

namespace kiln::fs {

// Character devices: null, zero, full, random, urandom, tty, console.
Result<void> populate_dev(Directory* dev);
Result<void> populate_proc(Directory* proc);
Result<void> populate_sys(Directory* sys);

enum class ConsoleEnd { kStdin, kStdout, kStderr, kTty };
// A console device inode (fresh, one reference).
Inode* make_console(ConsoleEnd end);

// A kernel node with fixed text (/proc/sys/..., /sys/...).
Inode* make_text_file(const char* text);

}  // namespace kiln::fs
