// kvm-floor: the least a KVM monitor process can do, as the boot benchmark's
// reference. Open /dev/kvm, create a VM with as much memory as kiln-vmm gives
// by default, create one vCPU, run it in real mode until its first exit (an
// OUT to port 0xf1, the first instruction) and exit 0. boot-bench times this
// whole process, fork+exec to exit, exactly like kiln-vmm.
//
// usage: kvm-floor [--mem-mib N]   (default 64)
#include <fcntl.h>
#include <linux/kvm.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace {

constexpr uint64_t kEntry = 0x1000;  // guest-physical address of the code
constexpr uint16_t kPort = 0xf1;

[[noreturn]] void die(const char* what) {
    perror(what);
    exit(1);
}

}  // namespace

int main(int argc, char** argv) {
    uint64_t mem_mib = 64;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--mem-mib") == 0 && i + 1 < argc) {
            mem_mib = strtoull(argv[++i], nullptr, 0);
        } else {
            fprintf(stderr, "usage: kvm-floor [--mem-mib N]\n");
            return 2;
        }
    }
    const uint64_t mem_size = mem_mib << 20;
    if (mem_size < 2 * kEntry) {
        fprintf(stderr, "kvm-floor: --mem-mib must be at least 1\n");
        return 2;
    }

    int kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
    if (kvm < 0) die("open /dev/kvm");
    int vm = ioctl(kvm, KVM_CREATE_VM, 0);
    if (vm < 0) die("KVM_CREATE_VM");

    void* mem = mmap(nullptr, mem_size, PROT_READ | PROT_WRITE,
                     MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (mem == MAP_FAILED) die("mmap guest memory");
    kvm_userspace_memory_region region{};
    region.slot = 0;
    region.guest_phys_addr = 0;
    region.memory_size = mem_size;
    region.userspace_addr = reinterpret_cast<uint64_t>(mem);
    if (ioctl(vm, KVM_SET_USER_MEMORY_REGION, &region) < 0) die("KVM_SET_USER_MEMORY_REGION");
    // out %al,$0xf1; hlt (the hlt is never reached).
    static const uint8_t code[] = {0xe6, kPort, 0xf4};
    // SAFETY: kEntry + sizeof code lies inside the mapping, checked above.
    memcpy(static_cast<uint8_t*>(mem) + kEntry, code, sizeof code);

    int vcpu = ioctl(vm, KVM_CREATE_VCPU, 0);
    if (vcpu < 0) die("KVM_CREATE_VCPU");
    int run_size = ioctl(kvm, KVM_GET_VCPU_MMAP_SIZE, 0);
    if (run_size < int(sizeof(kvm_run))) die("KVM_GET_VCPU_MMAP_SIZE");
    void* run_map = mmap(nullptr, size_t(run_size), PROT_READ | PROT_WRITE, MAP_SHARED, vcpu, 0);
    if (run_map == MAP_FAILED) die("mmap kvm_run");
    auto* run = static_cast<kvm_run*>(run_map);

    // Real mode from the reset state, with CS moved so that CS:IP = kEntry.
    kvm_sregs sregs;
    if (ioctl(vcpu, KVM_GET_SREGS, &sregs) < 0) die("KVM_GET_SREGS");
    sregs.cs.base = 0;
    sregs.cs.selector = 0;
    if (ioctl(vcpu, KVM_SET_SREGS, &sregs) < 0) die("KVM_SET_SREGS");
    kvm_regs regs{};
    regs.rip = kEntry;
    regs.rflags = 0x2;
    if (ioctl(vcpu, KVM_SET_REGS, &regs) < 0) die("KVM_SET_REGS");

    if (ioctl(vcpu, KVM_RUN, 0) < 0) die("KVM_RUN");
    if (run->exit_reason != KVM_EXIT_IO || run->io.port != kPort) {
        fprintf(stderr, "kvm-floor: unexpected first exit: reason %u\n", run->exit_reason);
        return 1;
    }
    return 0;
}
