// A per-user cache of KVM_GET_SUPPORTED_CPUID's answer. On kvm-pvm that
// ioctl is the slowest step of a start (~0.3 ms: the host is itself a guest
// and each CPUID it runs traps), and its answer only changes with the host's
// kernel, so it is kept under $XDG_CACHE_HOME/kiln (or ~/.cache/kiln), keyed
// by the host's boot id and the KVM device. KILN_NO_CPUID_CACHE=1 turns it off.
#pragma once

#include <stddef.h>

namespace kiln::vmm {

// Fills buf (size bytes) with a cached answer for the KVM device kvm_fd;
// false when there is none for this boot.
bool load_cached_cpuid(int kvm_fd, void* buf, size_t size);
// Saves an answer; failures are silent (the cache is only a shortcut).
void store_cached_cpuid(int kvm_fd, const void* buf, size_t size);

}  // namespace kiln::vmm
