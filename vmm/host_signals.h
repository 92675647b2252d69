// Signals sent to kiln-vmm (lib/abi/boot.h, "Host signals"): caught here,
// handed to the guest kernel through an MSI and kPortHostSignals, so that
// Ctrl-C reaches the program the way it reaches a native process.
#pragma once

#include <stdint.h>

struct kvm_run;

namespace kiln::vmm {

// Installs the handlers (before seccomp). Once the guest has opted in, a
// signal raises the MSI right from the handler; before that it stops the VM
// through run's immediate_exit.
void catch_host_signals(struct kvm_run* run, int vm_fd);

// After every KVM_RUN: a signal number when the guest never opted in and
// a signal must end the VM (0 otherwise).
int forward_host_signals();

// A 32-bit IN from kPortHostSignals: the pending set, cleared.
uint32_t take_host_signals();

}  // namespace kiln::vmm
