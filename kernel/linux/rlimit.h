// Resource limits (getrlimit(2), setrlimit(2), prlimit(2)): one table per
// process, starting from the values a Debian system gives a login shell so
// that programs size themselves as they would there. Pure, host-tested.
#pragma once

#include <stdint.h>

#include "kiln/result.h"

namespace kiln::sys {

// Resources (include/uapi/asm-generic/resource.h).
inline constexpr int kRlimitCpu = 0;
inline constexpr int kRlimitFsize = 1;
inline constexpr int kRlimitData = 2;
inline constexpr int kRlimitStack = 3;
inline constexpr int kRlimitCore = 4;
inline constexpr int kRlimitRss = 5;
inline constexpr int kRlimitNproc = 6;
inline constexpr int kRlimitNofile = 7;
inline constexpr int kRlimitMemlock = 8;
inline constexpr int kRlimitAs = 9;
inline constexpr int kRlimitLocks = 10;
inline constexpr int kRlimitSigpending = 11;
inline constexpr int kRlimitMsgqueue = 12;
inline constexpr int kRlimitNice = 13;
inline constexpr int kRlimitRtprio = 14;
inline constexpr int kRlimitRttime = 15;
inline constexpr int kRlimitCount = 16;  // RLIM_NLIMITS

inline constexpr uint64_t kRlimInfinity = ~uint64_t{0};
// /proc/sys/fs/nr_open: no RLIMIT_NOFILE may go above it, even for root.
inline constexpr uint64_t kNrOpen = 1u << 20;

struct Rlimit64 {  // struct rlimit64 (and struct rlimit on x86-64)
    uint64_t rlim_cur;
    uint64_t rlim_max;
};
static_assert(sizeof(Rlimit64) == 16);

class ResourceLimits {
public:
    // The defaults: STACK 8 MiB soft, NOFILE 1024 soft / 524288 hard, CORE 0
    // soft, DATA/AS/RSS unlimited, ...
    constexpr ResourceLimits() : limits_{} { set_defaults(); }

    // EINVAL for an unknown resource.
    Result<Rlimit64> get(int resource) const;

    // setrlimit(2) rules: EINVAL for an unknown resource or cur > max; EPERM
    // when raising the hard limit without privilege (CAP_SYS_RESOURCE: root
    // here), or raising NOFILE above nr_open. Lowering is always allowed.
    Result<void> set(int resource, const Rlimit64& lim, bool privileged);

private:
    constexpr void set_defaults() {
        for (Rlimit64& l : limits_) l = {kRlimInfinity, kRlimInfinity};
        limits_[kRlimitStack] = {8ull << 20, kRlimInfinity};
        limits_[kRlimitCore] = {0, kRlimInfinity};
        limits_[kRlimitNproc] = {65536, 65536};
        limits_[kRlimitNofile] = {1024, 524288};
        limits_[kRlimitMemlock] = {8ull << 20, 8ull << 20};
        limits_[kRlimitSigpending] = {65536, 65536};
        limits_[kRlimitMsgqueue] = {819200, 819200};
        limits_[kRlimitNice] = {0, 0};
        limits_[kRlimitRtprio] = {0, 0};
    }

    Rlimit64 limits_[kRlimitCount];
};

}  // namespace kiln::sys
