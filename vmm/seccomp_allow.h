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
//   futex            libc internals, the lock between vCPU and I/O thread
//   rt_sigreturn     returning from a signal handler
//   exit, exit_group the end
// and for virtio-net's I/O thread (net_io.h), whose descriptors (eventfd,
// TAP, the socket to kiln-slirp) are all opened before the filter:
//   poll, ppoll      waiting for a kick or the backend
//   read, writev     packets from and to the backend, the eventfd
//   write            a kick; the byte that starts kiln-slirp (net_backend.h)
//   ioctl            KVM_SIGNAL_MSI for its interrupts, TUNSETOFFLOAD
inline constexpr int kSeccompAllowed[] = {
    SYS_ioctl,   SYS_read,  SYS_pread64,      SYS_write, SYS_writev,
    SYS_mincore, SYS_futex, SYS_rt_sigreturn, SYS_exit,  SYS_exit_group,
    SYS_poll,    SYS_ppoll,
};

}  // namespace kiln::vmm
