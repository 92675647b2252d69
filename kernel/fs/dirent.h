// getdents64(2) records: struct linux_dirent64 as Linux lays it out (the
// UAPI headers do not export it): d_ino, d_off, d_reclen, d_type, d_name,
// each record padded to 8 bytes. d_off is the position to resume after it.
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "fs/inode.h"

namespace kiln::fs {

struct LinuxDirent64 {
    uint64_t d_ino;
    int64_t d_off;
    uint16_t d_reclen;
    uint8_t d_type;
    char d_name[];
};
static_assert(__builtin_offsetof(LinuxDirent64, d_name) == 19);

// Fills buf with as many whole records as fit, starting at directory
// position *pos and advancing it. Returns the bytes used: 0 at the end,
// EINVAL when even the first record does not fit.
Result<size_t> fill_dirents(Inode* dir, uint64_t* pos, uint8_t* buf, size_t cap);

}  // namespace kiln::fs
