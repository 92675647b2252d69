// CPUID for vCPU 0: what KVM supports, with the topology fields that name
// this CPU fixed up. KVM's own paravirtual leaves (0x40000000 "KVMKVMKVM",
// 0x40000001 features) stay, so the kernel finds kvmclock. x2APIC and the
// TSC-deadline timer are advertised by KVM_GET_SUPPORTED_CPUID exactly when
// the in-kernel LAPIC provides them (it does on kvm-pvm), so they pass
// through unchanged rather than being forced on.
#include "cpuid_cache.h"
#include "kvm_abi.h"
#include "kvm_vm.h"
#include "log.h"

#include <errno.h>
#include <string.h>
#include <sys/ioctl.h>

namespace kiln::vmm {

namespace {

constexpr int kMaxEntries = 128;

kvm::Cpuid<kMaxEntries> g_cpuid;  // 5 KiB: static rather than on the stack

}  // namespace

namespace {

void apply_cpuid(int kvm_fd, int vcpu_fd, bool use_cache) {
    kvm::Cpuid<kMaxEntries>* cpuid = &g_cpuid;
    const bool cached = use_cache && load_cached_cpuid(kvm_fd, cpuid, sizeof(*cpuid)) &&
                        cpuid->hdr.nent <= kMaxEntries;
    if (!cached) {
        cpuid->hdr.nent = kMaxEntries;
        if (ioctl(kvm_fd, kvm::kGetSupportedCpuid, cpuid) != 0) {
            fatal("KVM_GET_SUPPORTED_CPUID failed: %s", strerror(errno));
        }
        store_cached_cpuid(kvm_fd, cpuid, sizeof(*cpuid));
    }
    for (uint32_t i = 0; i < cpuid->hdr.nent; ++i) {
        struct kvm_cpuid_entry2& e = cpuid->entries[i];
        switch (e.function) {
            case 1:
                // EBX[31:24] initial APIC id = 0; [23:16] logical processors = 1.
                e.ebx = (e.ebx & 0x0000ffff) | (1u << 16);
                break;
            case 0xb:
            case 0x1f:
                // x2APIC topology: EDX is the x2APIC id of this CPU.
                e.edx = 0;
                break;
            default:
                break;
        }
    }
    if (ioctl(vcpu_fd, kvm::kSetCpuid2, cpuid) != 0) {
        // A stale cache (KVM reloaded with other settings): ask KVM afresh.
        if (cached) {
            apply_cpuid(kvm_fd, vcpu_fd, false);
            return;
        }
        fatal("KVM_SET_CPUID2 failed: %s", strerror(errno));
    }
}

}  // namespace

void setup_cpuid(int kvm_fd, int vcpu_fd) { apply_cpuid(kvm_fd, vcpu_fd, true); }

uint64_t supported_xcr0() {
    bool xsave = false;
    uint64_t xcr0 = 0;
    for (uint32_t i = 0; i < g_cpuid.hdr.nent; ++i) {
        const struct kvm_cpuid_entry2& e = g_cpuid.entries[i];
        if (e.function == 1) xsave = (e.ecx & (1u << 26)) != 0;
        if (e.function == 0xd && e.index == 0) xcr0 = e.eax | (static_cast<uint64_t>(e.edx) << 32);
    }
    return xsave ? xcr0 : 0;
}

}  // namespace kiln::vmm
