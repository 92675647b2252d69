// FIXME: no user address space exists yet, so every user access fails with
// EFAULT; kernel/mm's UserAddressSpace replaces this with checked copies.
#include "linux/user.h"

namespace kiln::sys {

Result<void> copy_from_user(void*, uint64_t, size_t) { return Error(Errno::kEFAULT); }
Result<void> copy_to_user(uint64_t, const void*, size_t) { return Error(Errno::kEFAULT); }
Result<void> clear_user(uint64_t, size_t) { return Error(Errno::kEFAULT); }
Result<size_t> copy_string_from_user(char*, uint64_t, size_t) { return Error(Errno::kEFAULT); }

}  // namespace kiln::sys
