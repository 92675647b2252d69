// Linux errno values (asm-generic/errno-base.h numbering). The kernel speaks
// these at the syscall boundary, so they are the error type everywhere.
#pragma once

namespace kiln {

enum class Errno : int {
    EPERM = 1,
    ENOENT = 2,
    EIO = 5,
    E2BIG = 7,
    ENOEXEC = 8,
    EBADF = 9,
    EAGAIN = 11,
    ENOMEM = 12,
    EFAULT = 14,
    EBUSY = 16,
    EEXIST = 17,
    ENODEV = 19,
    ENOTDIR = 20,
    EISDIR = 21,
    EINVAL = 22,
    ENOSPC = 28,
    ERANGE = 34,
    ENOSYS = 38,
    EOVERFLOW = 75,
};

const char* errno_name(Errno e);

}  // namespace kiln
