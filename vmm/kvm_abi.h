// <linux/kvm.h> for C++. The uapi headers declare flexible arrays with
// __DECLARE_FLEX_ARRAY, whose empty struct has size 1 in C++: struct
// kvm_cpuid2 and kvm_msrs come out 4 bytes larger than in C, and the ioctl
// numbers that encode their sizes no longer match the kernel's. These are the
// C layouts and the numbers the kernel expects.
#pragma once

#include <linux/kvm.h>
#include <stdint.h>
#include <sys/ioctl.h>

namespace kiln::vmm::kvm {

struct CpuidHeader {  // struct kvm_cpuid2 without its entries
    uint32_t nent;
    uint32_t padding;
};
struct MsrsHeader {  // struct kvm_msrs without its entries
    uint32_t nmsrs;
    uint32_t pad;
};
static_assert(sizeof(CpuidHeader) == 8 && sizeof(MsrsHeader) == 8);

template <int N>
struct Cpuid {
    CpuidHeader hdr;
    struct kvm_cpuid_entry2 entries[N];
};
template <int N>
struct Msrs {
    MsrsHeader hdr;
    struct kvm_msr_entry entries[N];
};

inline constexpr unsigned long kGetSupportedCpuid = _IOWR(KVMIO, 0x05, CpuidHeader);
inline constexpr unsigned long kSetCpuid2 = _IOW(KVMIO, 0x90, CpuidHeader);
inline constexpr unsigned long kGetMsrs = _IOWR(KVMIO, 0x88, MsrsHeader);

}  // namespace kiln::vmm::kvm
