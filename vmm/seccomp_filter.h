// The seccomp allow-list kiln-vmm runs under once the VM is set up: only the
// system calls the vCPU loop, the device models and the exit path make.
// Anything else kills the process (SIGSYS).
#pragma once

namespace kiln::vmm {

// Installs the filter; exits with a message when the kernel refuses it.
void install_seccomp();

// For tests (--debug-seccomp-violation): makes a forbidden system call.
[[noreturn]] void seccomp_violation();

}  // namespace kiln::vmm
