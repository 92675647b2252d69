#include "seccomp_filter.h"

#include "log.h"
#include "seccomp_bpf.h"  // generated from seccomp_allow.h

#include <errno.h>
#include <linux/seccomp.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

namespace kiln::vmm {

void install_seccomp() {
    // Without no_new_privs an unprivileged process may not install a
    // filter; kiln-vmm never execs, so it loses nothing.
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) {
        fatal("cannot set no_new_privs for the seccomp filter: %s", strerror(errno));
    }
    sock_fprog prog = {static_cast<unsigned short>(sizeof(kSeccompProgram) / sizeof(kSeccompProgram[0])),
                       const_cast<sock_filter*>(kSeccompProgram)};
    // TSYNC: every thread of the monitor (device I/O threads too) runs
    // under the same filter.
    long rc = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_TSYNC, &prog);
    if (rc != 0) {
        fatal("cannot install the seccomp filter: %s; kiln-vmm needs a kernel with "
              "CONFIG_SECCOMP_FILTER",
              rc > 0 ? "another thread could not be synchronised" : strerror(errno));
    }
}

void seccomp_violation() {
    // socket() is on no path of the monitor: the filter kills us here.
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    log("seccomp did not stop socket() (fd %d)", fd);
    _exit(1);
}

}  // namespace kiln::vmm
