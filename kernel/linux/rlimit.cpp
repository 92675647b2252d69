#include "linux/rlimit.h"

namespace kiln::sys {

Result<Rlimit64> ResourceLimits::get(int resource) const {
    if (resource < 0 || resource >= kRlimitCount) return Error(Errno::kEINVAL);
    return limits_[resource];
}

Result<void> ResourceLimits::set(int resource, const Rlimit64& lim, bool privileged) {
    if (resource < 0 || resource >= kRlimitCount) return Error(Errno::kEINVAL);
    if (lim.rlim_cur > lim.rlim_max) return Error(Errno::kEINVAL);
    if (resource == kRlimitNofile && lim.rlim_max > kNrOpen) return Error(Errno::kEPERM);
    if (lim.rlim_max > limits_[resource].rlim_max && !privileged) return Error(Errno::kEPERM);
    limits_[resource] = lim;
    return {};
}

}  // namespace kiln::sys
