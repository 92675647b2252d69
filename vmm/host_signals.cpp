#include "host_signals.h"

#include "abi/boot.h"

#include <linux/kvm.h>
#include <signal.h>
#include <string.h>
#include <sys/ioctl.h>

namespace kiln::vmm {
namespace {

const int kForwarded[] = {SIGINT, SIGTERM, SIGQUIT, SIGHUP, SIGUSR1, SIGUSR2};

volatile uint32_t g_pending = 0;    // bit n-1: signal n arrived, not yet taken
volatile bool g_opted_in = false;
struct kvm_run* volatile g_run = nullptr;
volatile int g_vm_fd = -1;

void raise_msi() {
    struct kvm_msi msi;
    memset(&msi, 0, sizeof(msi));
    msi.address_lo = 0xfee00000;  // the local APIC of CPU 0, fixed delivery
    msi.data = abi::kHostSignalVector;
    ioctl(g_vm_fd, KVM_SIGNAL_MSI, &msi);
}

void on_signal(int sig) {
    __atomic_or_fetch(&g_pending, 1u << (sig - 1), __ATOMIC_SEQ_CST);
    if (g_opted_in) {
        // The guest takes it from here: the in-kernel local APIC wakes it
        // even from a halt. KVM_RUN is not interrupted, so an I/O exit the
        // guest was in the middle of completes normally.
        raise_msi();
    } else if (g_run) {
        // Nobody in the guest will take it: stop the VM (forward_host_signals).
        g_run->immediate_exit = 1;
    }
}

}  // namespace

void catch_host_signals(struct kvm_run* run, int vm_fd) {
    g_run = run;
    g_vm_fd = vm_fd;
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = 0;  // no SA_RESTART: KVM_RUN must return EINTR
    for (int s : kForwarded) sigaction(s, &sa, nullptr);
}

int forward_host_signals() {
    if (g_opted_in) return 0;  // the signal handler raised the interrupt
    const uint32_t pending = __atomic_load_n(&g_pending, __ATOMIC_SEQ_CST);
    for (int s : kForwarded) {
        if (pending & (1u << (s - 1))) return s;
    }
    return 0;
}

uint32_t take_host_signals() {
    g_opted_in = true;
    if (g_run) g_run->immediate_exit = 0;
    return __atomic_exchange_n(&g_pending, 0u, __ATOMIC_SEQ_CST);
}

}  // namespace kiln::vmm
