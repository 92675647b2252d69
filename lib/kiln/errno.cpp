#include "kiln/errno.h"

namespace kiln {

const char* errno_name(Errno e) {
    switch (e) {
#define KILN_ERRNO_NAME(n) \
    case Errno::k##n:      \
        return #n;
        KILN_ERRNO_NAME(EPERM)
        KILN_ERRNO_NAME(ENOENT)
        KILN_ERRNO_NAME(EIO)
        KILN_ERRNO_NAME(E2BIG)
        KILN_ERRNO_NAME(ENOEXEC)
        KILN_ERRNO_NAME(EBADF)
        KILN_ERRNO_NAME(EAGAIN)
        KILN_ERRNO_NAME(ENOMEM)
        KILN_ERRNO_NAME(EFAULT)
        KILN_ERRNO_NAME(EBUSY)
        KILN_ERRNO_NAME(EEXIST)
        KILN_ERRNO_NAME(ENODEV)
        KILN_ERRNO_NAME(ENOTDIR)
        KILN_ERRNO_NAME(EISDIR)
        KILN_ERRNO_NAME(EINVAL)
        KILN_ERRNO_NAME(ENOSPC)
        KILN_ERRNO_NAME(ERANGE)
        KILN_ERRNO_NAME(ENOSYS)
        KILN_ERRNO_NAME(ELOOP)
        KILN_ERRNO_NAME(EOVERFLOW)
#undef KILN_ERRNO_NAME
    }
    return "E?";
}

}  // namespace kiln
