// The system calls kiln-vmm may make once the VM is set up: the seccomp
// allow-list, shared by the monitor and the build-time tool that compiles
// it into a BPF program (gen_seccomp_bpf.cpp). Anything else kills the
// process (SIGSYS).
#pragma once

#include <sys/syscall.h>

namespace kiln::vmm {

// What the run loop needs after set-up:
//   ioctl            KVM_RUN, KVM_IRQ_LINE, KVM_GET_REGS/SREGS (crash report)
//   read, pread64    /proc/self/statm for --stats (opened before the filter)
//   write, writev    guest output on stdout/stderr, messages
//   mincore          --stats: guest pages touched
//   futex            libc internals
//   rt_sigreturn     returning from a signal handler
//   exit, exit_group the end
inline constexpr int kSeccompAllowed[] = {
    SYS_ioctl,   SYS_read,  SYS_pread64,      SYS_write, SYS_writev,
    SYS_mincore, SYS_futex, SYS_rt_sigreturn, SYS_exit,  SYS_exit_group,
};

}  // namespace kiln::vmm
