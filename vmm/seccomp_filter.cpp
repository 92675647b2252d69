#include "seccomp_filter.h"

#include "log.h"

#include <errno.h>
#include <seccomp.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

namespace kiln::vmm {

namespace {

// What the run loop needs after set-up:
//   ioctl            KVM_RUN, KVM_IRQ_LINE, KVM_GET_REGS/SREGS (crash report)
//   read, pread64    /proc/self/statm for --stats (opened before the filter)
//   write, writev    guest output on stdout/stderr, messages
//   mincore          --stats: guest pages touched
//   futex            libc internals
//   rt_sigreturn     returning from a signal handler
//   exit, exit_group the end
constexpr int kAllowed[] = {
    SCMP_SYS(ioctl),  SCMP_SYS(read),    SCMP_SYS(pread64),      SCMP_SYS(write),
    SCMP_SYS(writev), SCMP_SYS(mincore), SCMP_SYS(futex),        SCMP_SYS(rt_sigreturn),
    SCMP_SYS(exit),   SCMP_SYS(exit_group),
};

}  // namespace

void install_seccomp() {
    scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_KILL_PROCESS);
    if (ctx == nullptr) fatal("seccomp_init failed");
    for (int nr : kAllowed) {
        int rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 0);
        if (rc != 0) fatal("seccomp_rule_add(%d) failed: %s", nr, strerror(-rc));
    }
    int rc = seccomp_load(ctx);
    if (rc != 0) {
        fatal("cannot install the seccomp filter: %s; kiln-vmm needs a kernel with "
              "CONFIG_SECCOMP_FILTER", strerror(-rc));
    }
    // The context is not released: freeing could trim the heap with brk or
    // munmap, which the filter now forbids, and the process ends soon anyway.
}

void seccomp_violation() {
    // socket() is on no path of the monitor: the filter kills us here.
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    log("seccomp did not stop socket() (fd %d)", fd);
    _exit(1);
}

}  // namespace kiln::vmm
