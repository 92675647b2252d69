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
volatile uint32_t g_raised = 0;     // the part of g_pending the guest was told about
volatile bool g_opted_in = false;
struct kvm_run* volatile g_run = nullptr;

void on_signal(int sig) {
    __atomic_or_fetch(&g_pending, 1u << (sig - 1), __ATOMIC_SEQ_CST);
    // KVM_RUN returns at once if the signal came just before it started.
    if (g_run) g_run->immediate_exit = 1;
}

}  // namespace

void catch_host_signals(struct kvm_run* run) {
    g_run = run;
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = 0;  // no SA_RESTART: KVM_RUN must return EINTR
    for (int s : kForwarded) sigaction(s, &sa, nullptr);
}

bool guest_takes_host_signals() { return g_opted_in; }

int forward_host_signals(int vm_fd) {
    if (g_run) g_run->immediate_exit = 0;
    const uint32_t pending = __atomic_load_n(&g_pending, __ATOMIC_SEQ_CST);
    if (pending == 0) return 0;
    if (!g_opted_in) {
        for (int s : kForwarded) {
            if (pending & (1u << (s - 1))) return s;
        }
        return 0;
    }
    if ((pending & ~g_raised) == 0) return 0;  // already told
    g_raised = pending;
    struct kvm_msi msi;
    memset(&msi, 0, sizeof(msi));
    msi.address_lo = 0xfee00000;  // the local APIC of CPU 0, fixed delivery
    msi.data = abi::kHostSignalVector;
    ioctl(vm_fd, KVM_SIGNAL_MSI, &msi);
    return 0;
}

uint32_t take_host_signals() {
    g_opted_in = true;
    g_raised = 0;
    return __atomic_exchange_n(&g_pending, 0u, __ATOMIC_SEQ_CST);
}

}  // namespace kiln::vmm
