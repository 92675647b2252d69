// Signals sent to kiln-vmm (lib/abi/boot.h, "Host signals"): caught here,
// handed to the guest kernel through an MSI and kPortHostSignals, so that
// Ctrl-C reaches the program the way it reaches a native process.
#pragma once

#include <stdint.h>

struct kvm_run;

namespace kiln::vmm {

// Installs the handlers (before seccomp). `run` is the vCPU's kvm_run, whose
// immediate_exit the handler sets so KVM_RUN returns promptly.
void catch_host_signals(struct kvm_run* run);

// The guest has opted in (it read the port once).
bool guest_takes_host_signals();

// After every KVM_RUN: raises the MSI when a signal waits for a guest that
// takes them; returns a signal number when the guest never opted in and
// the signal must end the VM (0 otherwise).
int forward_host_signals(int vm_fd);

// A 32-bit IN from kPortHostSignals: the pending set, cleared.
uint32_t take_host_signals();

}  // namespace kiln::vmm
