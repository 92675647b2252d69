// TAP: Linux Documentation/networking/tuntap.rst (TUNSETIFF, IFF_VNET_HDR,
// TUNSETVNETHDRSZ, TUNSETOFFLOAD).
#include "net_backend.h"

#include "log.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

extern char** environ;

namespace kiln::vmm {

namespace {

class TapBackend final : public NetBackend {
public:
    TapBackend(int fd, const char* name) : fd_(fd), name_(name) {}
    int fd() const override { return fd_; }
    // The TAP takes GSO packets from the guest (the host kernel segments
    // them) and, when told, hands over coalesced ones.
    uint64_t offload_features() const override {
        return virtio::kNetFeatureHostTso4 | virtio::kNetFeatureHostTso6 |
               virtio::kNetFeatureGuestTso4 | virtio::kNetFeatureGuestTso6;
    }
    void set_offloads(uint64_t f) override {
        // With TUN_F_CSUM the TAP may hand over packets whose checksum is
        // left to the receiver (NEEDS_CSUM), which only a driver that took
        // GUEST_CSUM accepts; without it the host kernel completes them.
        // TSO towards the guest needs checksum offload as well (§5.1.3.1).
        unsigned long flags = 0;
        if (f & virtio::kNetFeatureGuestCsum) {
            flags |= TUN_F_CSUM;
            if (f & virtio::kNetFeatureGuestTso4) flags |= TUN_F_TSO4;
            if (f & virtio::kNetFeatureGuestTso6) flags |= TUN_F_TSO6;
        }
        if (ioctl(fd_, TUNSETOFFLOAD, flags) != 0) {
            log("--net tap:%s: TUNSETOFFLOAD failed (%s); offloads stay off", name_,
                strerror(errno));
        }
    }

private:
    int fd_;
    const char* name_;
};

class UserBackend final : public NetBackend {
public:
    UserBackend(int fd, int go_fd) : fd_(fd), go_fd_(go_fd) {}
    int fd() const override { return fd_; }
    // kiln-slirp always sends complete checksums and no GSO packets (nor
    // takes any: no TSO is offered); the device clears the DATA_VALID flag
    // for a driver without GUEST_CSUM.
    void set_offloads(uint64_t) override {}
    void activate() override {
        if (go_fd_ < 0) return;
        (void)!write(go_fd_, "g", 1);
        go_fd_ = -1;  // closing is not allowed any more (seccomp); exit closes it
    }

private:
    int fd_;
    int go_fd_;
};

// kiln-slirp: $KILN_SLIRP, else beside this executable.
void find_slirp(char* out, size_t len) {
    const char* env = getenv("KILN_SLIRP");
    if (env != nullptr && env[0] != '\0') {
        snprintf(out, len, "%s", env);
        return;
    }
    char self[PATH_MAX - 16];
    ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
    if (n <= 0) fatal("cannot find kiln-slirp: /proc/self/exe unreadable; set KILN_SLIRP");
    self[n] = '\0';
    char* slash = strrchr(self, '/');
    if (slash != nullptr) *slash = '\0';
    snprintf(out, len, "%s/kiln-slirp", self);
}

}  // namespace

NetBackend* open_tap_backend(const char* name) {
    if (if_nametoindex(name) == 0) {
        fatal("--net tap:%s: there is no network interface '%s'; create the TAP device first "
              "(e.g. ip tuntap add dev %s mode tap user $USER)", name, name, name);
    }
    int fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) {
        int e = errno;
        if (e == ENOENT || e == ENODEV || e == ENXIO) {
            fatal("--net tap:%s: /dev/net/tun is missing; load the tun module (modprobe tun)",
                  name);
        }
        fatal("--net tap:%s: cannot open /dev/net/tun: %s", name, strerror(e));
    }
    unsigned int features = 0;
    if (ioctl(fd, TUNGETFEATURES, &features) == 0 && !(features & IFF_VNET_HDR)) {
        fatal("--net tap:%s: this kernel's TAP driver has no IFF_VNET_HDR", name);
    }
    struct ifreq ifr = {};
    snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
    ifr.ifr_flags = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR;
    if (ioctl(fd, TUNSETIFF, &ifr) != 0) {
        int e = errno;
        if (e == EPERM || e == EACCES) {
            fatal("--net tap:%s: not allowed to attach to the TAP device; create it for your "
                  "user (ip tuntap add dev %s mode tap user $USER) or run as root", name, name);
        }
        if (e == EBUSY) {
            fatal("--net tap:%s: the TAP device is in use by another process", name);
        }
        fatal("--net tap:%s: cannot attach (%s); is '%s' a TAP device (not TUN or another "
              "kind of interface)?", name, strerror(e), name);
    }
    int hdr_len = sizeof(virtio::NetHdr);
    if (ioctl(fd, TUNSETVNETHDRSZ, &hdr_len) != 0) {
        fatal("--net tap:%s: TUNSETVNETHDRSZ failed: %s", name, strerror(errno));
    }
    // Until the driver says otherwise: complete checksums towards the guest.
    if (ioctl(fd, TUNSETOFFLOAD, 0ul) != 0) {
        fatal("--net tap:%s: TUNSETOFFLOAD failed: %s", name, strerror(errno));
    }
    static TapBackend tap(fd, name);
    return &tap;
}

namespace {

// The kiln-slirp stub (start_user_backend). It runs in this process's
// memory, on its own stack, so it touches only g_stub and raw system calls:
// what it reads was set before it started and never changes.
struct StubArgs {
    const char* path;
    const char* const* argv;
    int go_read, go_write, sv, status;
};
StubArgs g_stub;
alignas(16) char g_stub_stack[64 * 1024];

int stub_main(void*) {
    close(g_stub.go_write);
    // Its own process group: a Ctrl-C at the terminal is the guest's
    // (kiln-vmm forwards it), and must not take the network down.
    setpgid(0, 0);
    char c;
    ssize_t n;
    while ((n = read(g_stub.go_read, &c, 1)) < 0 && errno == EINTR) {
    }
    if (n != 1) _exit(0);
    if (dup2(g_stub.sv, 3) != 3) _exit(125);
    if (g_stub.status >= 0 && dup2(g_stub.status, 4) != 4) _exit(125);
    int null_fd = open("/dev/null", O_RDWR);
    if (null_fd >= 0) {
        dup2(null_fd, STDIN_FILENO);
        dup2(null_fd, STDOUT_FILENO);  // stdout is the guest program's
    }
    execve(g_stub.path, const_cast<char* const*>(g_stub.argv), environ);
    static const char msg[] = "kiln-vmm: error: cannot start kiln-slirp (execve failed)\n";
    (void)!write(STDERR_FILENO, msg, sizeof(msg) - 1);
    _exit(125);
}

}  // namespace

NetBackend* start_user_backend(const NetOptions& opt) {
    char path[PATH_MAX];
    find_slirp(path, sizeof(path));
    if (access(path, X_OK) != 0) {
        fatal("--net user needs kiln-slirp, which is not at %s (%s); build it (it needs "
              "libslirp-dev: scripts/setup) or set KILN_SLIRP", path, strerror(errno));
    }
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) != 0) {
        fatal("--net user: socketpair failed: %s", strerror(errno));
    }
    // Room for bursts in both directions (each packet is one message).
    int buf = 1 << 20;
    for (int s : sv) {
        setsockopt(s, SOL_SOCKET, SO_SNDBUF, &buf, sizeof(buf));
        setsockopt(s, SOL_SOCKET, SO_RCVBUF, &buf, sizeof(buf));
    }
    int flags = fcntl(sv[0], F_GETFL);
    fcntl(sv[0], F_SETFL, flags | O_NONBLOCK);
    bool wait_ready = opt.publish_count > 0;
    int status[2] = {-1, -1};
    if (wait_ready && pipe2(status, O_CLOEXEC) != 0) {
        fatal("--net user: pipe failed: %s", strerror(errno));
    }

    // argv: kiln-slirp --fd 3 [--status-fd 4] [--publish SPEC]...
    // Static: the stub reads them long after this function has returned.
    static char specs[kMaxPublish][48];
    static char slirp_path[PATH_MAX];
    static const char* argv[8 + 2 * kMaxPublish] = {};
    snprintf(slirp_path, sizeof(slirp_path), "%s", path);
    int argc = 0;
    argv[argc++] = slirp_path;
    argv[argc++] = "--fd";
    argv[argc++] = "3";
    if (wait_ready) {
        argv[argc++] = "--status-fd";
        argv[argc++] = "4";
    }
    for (int i = 0; i < opt.publish_count; ++i) {
        const PortForward& f = opt.publish[i];
        snprintf(specs[i], sizeof(specs[i]), "%u.%u.%u.%u:%u:%u/%s", f.host_addr[0],
                 f.host_addr[1], f.host_addr[2], f.host_addr[3], f.host_port, f.guest_port,
                 f.udp ? "udp" : "tcp");
        argv[argc++] = "--publish";
        argv[argc++] = specs[i];
    }
    // kiln-slirp starts only when the guest's driver brings the device up
    // (DRIVER_OK), so a program that never uses the network does not pay
    // for loading libslirp and GLib. The monitor cannot start a process then
    // (seccomp), so it starts a stub now, before KVM and guest memory exist;
    // the stub waits on the `go` pipe and execs kiln-slirp on the first
    // byte, or exits when the pipe closes unused. The stub shares this
    // process's memory until then (CLONE_VM, as posix_spawn does): no page
    // tables are copied, which made a fork ~0.2 ms of every kiln run.
    int go[2];
    if (pipe2(go, O_CLOEXEC) != 0) fatal("--net user: pipe failed: %s", strerror(errno));
    g_stub.path = slirp_path;
    g_stub.argv = argv;
    g_stub.go_read = go[0];
    g_stub.go_write = go[1];
    g_stub.sv = sv[1];
    g_stub.status = wait_ready ? status[1] : -1;
    pid_t pid = clone(stub_main, g_stub_stack + sizeof(g_stub_stack), CLONE_VM | SIGCHLD, nullptr);
    if (pid < 0) fatal("--net user: cannot start the network helper: %s", strerror(errno));
    close(go[0]);
    close(sv[1]);
    if (wait_ready) {
        close(status[1]);
        // Published ports are bound before the guest starts, so that a port
        // in use is an error of this run rather than a silent loss.
        (void)!write(go[1], "g", 1);
        struct pollfd p = {status[0], POLLIN, 0};
        char ok[2] = {};
        ssize_t n = 0;
        if (poll(&p, 1, 10000) == 1) n = read(status[0], ok, sizeof(ok));
        if (n != 2 || memcmp(ok, "ok", 2) != 0) {
            fatal("--net user: user-mode networking did not start (see the message above)");
        }
        close(status[0]);
    }
    static UserBackend user(sv[0], wait_ready ? -1 : go[1]);
    return &user;
}

}  // namespace kiln::vmm
