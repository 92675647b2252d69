#include "kvm_vm.h"

#include "kvm_abi.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "ioapic.h"
#include "log.h"

namespace kiln::vmm {

namespace {

// kvm-pvm answers this MSR with "PVM" (PVM.md); other KVMs do not have it,
// and KVM_GET_MSRS then reports 0 MSRs read.
constexpr uint32_t kPvmMsrId = 0x4b564d11;
constexpr uint64_t kPvmMsrIdValue = 0x4d5650;

bool detect_pvm(int vcpu_fd) {
    kvm::Msrs<1> msrs = {};
    msrs.hdr.nmsrs = 1;
    msrs.entries[0].index = kPvmMsrId;
    int n = ioctl(vcpu_fd, kvm::kGetMsrs, &msrs);
    return n == 1 && msrs.entries[0].data == kPvmMsrIdValue;
}

}  // namespace

int open_kvm() {
    const char* path = getenv("KILN_KVM_DEVICE");
    if (path == nullptr || *path == '\0') path = "/dev/kvm";
    int fd = open(path, O_RDWR | O_CLOEXEC);
    if (fd < 0) {
        int e = errno;
        if (e == ENOENT || e == ENODEV || e == ENXIO) {
            fatal("%s not found: KVM is not available; load the kvm module (modprobe kvm_intel "
                  "or kvm_amd) or run on a machine with KVM", path);
        }
        if (e == EACCES || e == EPERM || e == EROFS) {
            fatal("permission denied opening %s; add your user to the kvm group "
                  "(sudo usermod -aG kvm $USER, then log in again) or run as root", path);
        }
        fatal("cannot open %s: %s", path, strerror(e));
    }
    int version = ioctl(fd, KVM_GET_API_VERSION, 0);
    if (version != KVM_API_VERSION) {
        fatal("%s is not a usable KVM device (API version %d, need %d); point KILN_KVM_DEVICE "
              "at /dev/kvm", path, version, KVM_API_VERSION);
    }
    return fd;
}

Vm create_vm(int kvm_fd, const GuestMemory& mem) {
    Vm vm;
    vm.kvm_fd = kvm_fd;
    vm.vm_fd = ioctl(kvm_fd, KVM_CREATE_VM, 0);
    if (vm.vm_fd < 0) fatal("KVM_CREATE_VM failed: %s", strerror(errno));
    for (size_t i = 0; i < mem.range_count(); ++i) {
        const RamRange& r = mem.range(i);
        struct kvm_userspace_memory_region region = {};
        region.slot = static_cast<uint32_t>(i);
        region.guest_phys_addr = r.gpa;
        region.memory_size = r.size;
        region.userspace_addr = reinterpret_cast<uint64_t>(r.host);
        if (ioctl(vm.vm_fd, KVM_SET_USER_MEMORY_REGION, &region) != 0) {
            fatal("cannot give %llu MiB of RAM to the VM: %s; try a smaller --mem",
                  static_cast<unsigned long long>(r.size >> 20), strerror(errno));
        }
    }
    // The kernel's local APIC (x2APIC, TSC-deadline timer, HLT wake-ups) is
    // emulated inside KVM; the I/O APIC is ours (ioapic.h says why). Must
    // come before the vCPU is created.
    struct kvm_enable_cap split = {};
    split.cap = KVM_CAP_SPLIT_IRQCHIP;
    split.args[0] = kIoapicPins;
    if (ioctl(vm.vm_fd, KVM_ENABLE_CAP, &split) != 0) {
        fatal("KVM_CAP_SPLIT_IRQCHIP failed: %s; kiln-vmm needs a KVM with an in-kernel local "
              "APIC (Linux 4.6 or later)", strerror(errno));
    }
    vm.vcpu_fd = ioctl(vm.vm_fd, KVM_CREATE_VCPU, 0);
    if (vm.vcpu_fd < 0) fatal("KVM_CREATE_VCPU failed: %s", strerror(errno));
    int run_size = ioctl(kvm_fd, KVM_GET_VCPU_MMAP_SIZE, 0);
    if (run_size <= 0) fatal("KVM_GET_VCPU_MMAP_SIZE failed: %s", strerror(errno));
    void* run = mmap(nullptr, run_size, PROT_READ | PROT_WRITE, MAP_SHARED, vm.vcpu_fd, 0);
    if (run == MAP_FAILED) fatal("cannot map the vCPU's kvm_run: %s", strerror(errno));
    vm.run = static_cast<struct kvm_run*>(run);
    setup_cpuid(kvm_fd, vm.vcpu_fd);
    vm.pvm = detect_pvm(vm.vcpu_fd);
    return vm;
}


}  // namespace kiln::vmm
