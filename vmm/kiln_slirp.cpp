// kiln-slirp: user-mode networking for kiln-vmm's --net user, as a helper
// process around libslirp (net_backend.h says why it is a process).
//
//   kiln-slirp --fd N [--status-fd M] [--publish IP:HOSTPORT:GUESTPORT[/udp]]...
//
// Fd N is kiln-vmm's end of a SOCK_SEQPACKET pair: each message is one packet
// as virtio-net carries it, a 12-byte virtio_net_hdr and an Ethernet frame.
// The guest's network is slirp's usual 10.0.2.0/24 (a network inside this
// process, not a host interface): gateway 10.0.2.2, which is also how the
// guest reaches the host's loopback, DNS 10.0.2.3, DHCP from 10.0.2.15.
// Published ports listen on the host and forward to 10.0.2.15. Once every
// port is bound, "ok" is written to the status fd (kiln-vmm waits for it
// when -p was given); a failure is explained on stderr and ends the helper.
// It ends when kiln-vmm closes its end (after writing out what slirp still
// holds for the host) or dies.
#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <slirp/libslirp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include <vector>

#include "abi/virtio.h"
#include "net_options.h"

namespace {

using kiln::virtio::NetHdr;

constexpr size_t kHdrLen = sizeof(NetHdr);
constexpr size_t kMaxPacket = kHdrLen + 14 + 4 + 65535;

[[noreturn]] void die(const char* fmt, ...) __attribute__((format(printf, 1, 2)));
void die(const char* fmt, ...) {
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    fprintf(stderr, "kiln-vmm: error: %s\n", msg);
    exit(125);
}

int64_t now_ns() {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return int64_t(ts.tv_sec) * 1000000000 + ts.tv_nsec;
}

struct Timer {
    SlirpTimerCb cb;
    void* cb_opaque;
    int64_t expire_ms;  // -1: not armed
};

struct Helper {
    int vmm_fd = -1;
    Slirp* slirp = nullptr;
    std::vector<Timer*> timers;
    std::vector<struct pollfd> pollfds;
    uint64_t dropped = 0;
};

// ---- callbacks from libslirp ----

ssize_t send_packet(const void* buf, size_t len, void* opaque) {
    Helper& h = *static_cast<Helper*>(opaque);
    // Slirp's frames carry complete checksums.
    NetHdr hdr = {};
    hdr.flags = kiln::virtio::kNetHdrDataValid;
    hdr.gso_type = kiln::virtio::kNetGsoNone;
    struct iovec iov[2] = {{&hdr, kHdrLen}, {const_cast<void*>(buf), len}};
    struct msghdr msg = {};
    msg.msg_iov = iov;
    msg.msg_iovlen = 2;
    // A full socket means the guest is not keeping up: drop, as a NIC
    // would; TCP retransmits.
    if (sendmsg(h.vmm_fd, &msg, MSG_DONTWAIT | MSG_NOSIGNAL) < 0) ++h.dropped;
    return static_cast<ssize_t>(len);
}

void guest_error(const char* msg, void*) {
    fprintf(stderr, "kiln-vmm: user-mode networking: guest error: %s\n", msg);
}

int64_t clock_get_ns(void*) { return now_ns(); }

void* timer_new(SlirpTimerCb cb, void* cb_opaque, void* opaque) {
    Helper& h = *static_cast<Helper*>(opaque);
    Timer* t = new Timer{cb, cb_opaque, -1};
    h.timers.push_back(t);
    return t;
}

void timer_free(void* timer, void* opaque) {
    Helper& h = *static_cast<Helper*>(opaque);
    for (size_t i = 0; i < h.timers.size(); ++i) {
        if (h.timers[i] == timer) {
            h.timers.erase(h.timers.begin() + i);
            break;
        }
    }
    delete static_cast<Timer*>(timer);
}

void timer_mod(void* timer, int64_t expire_ms, void*) {
    static_cast<Timer*>(timer)->expire_ms = expire_ms;
}

void register_poll_fd(int, void*) {}
void unregister_poll_fd(int, void*) {}
void notify(void*) {}

int add_poll(int fd, int events, void* opaque) {
    Helper& h = *static_cast<Helper*>(opaque);
    short ev = 0;
    if (events & SLIRP_POLL_IN) ev |= POLLIN;
    if (events & SLIRP_POLL_OUT) ev |= POLLOUT;
    if (events & SLIRP_POLL_PRI) ev |= POLLPRI;
    h.pollfds.push_back(pollfd{fd, ev, 0});
    return static_cast<int>(h.pollfds.size() - 1);
}

int get_revents(int idx, void* opaque) {
    Helper& h = *static_cast<Helper*>(opaque);
    short r = h.pollfds[idx].revents;
    int ev = 0;
    if (r & POLLIN) ev |= SLIRP_POLL_IN;
    if (r & POLLOUT) ev |= SLIRP_POLL_OUT;
    if (r & POLLPRI) ev |= SLIRP_POLL_PRI;
    if (r & POLLERR) ev |= SLIRP_POLL_ERR;
    if (r & POLLHUP) ev |= SLIRP_POLL_HUP;
    return ev;
}

// ---- packets from the guest ----

// Finishes a partial checksum (virtio_net_hdr NEEDS_CSUM): the one's
// complement sum of [start, end), stored at start + offset. False when the
// offsets do not fit the frame.
bool finish_checksum(uint8_t* frame, size_t len, uint16_t start, uint16_t offset) {
    if (start >= len || size_t(start) + offset + 2 > len) return false;
    uint32_t sum = 0;
    for (size_t i = start; i + 1 < len; i += 2) sum += uint32_t(frame[i]) << 8 | frame[i + 1];
    if ((len - start) % 2 != 0) sum += uint32_t(frame[len - 1]) << 8;
    while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
    uint16_t c = static_cast<uint16_t>(~sum);
    frame[start + offset] = static_cast<uint8_t>(c >> 8);
    frame[start + offset + 1] = static_cast<uint8_t>(c);
    return true;
}

// Reads every packet kiln-vmm has queued; false when it has gone.
bool from_guest(Helper& h) {
    static uint8_t buf[kMaxPacket + 1];
    for (;;) {
        ssize_t n = recv(h.vmm_fd, buf, sizeof(buf), MSG_DONTWAIT);
        if (n == 0) return false;
        if (n < 0) return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR;
        if (size_t(n) < kHdrLen + 14 || size_t(n) > kMaxPacket) {
            ++h.dropped;
            continue;
        }
        NetHdr hdr;
        memcpy(&hdr, buf, kHdrLen);
        uint8_t* frame = buf + kHdrLen;
        size_t len = size_t(n) - kHdrLen;
        if (hdr.gso_type != kiln::virtio::kNetGsoNone) {
            ++h.dropped;  // no TSO was offered to the guest
            continue;
        }
        if ((hdr.flags & kiln::virtio::kNetHdrNeedsCsum) &&
            !finish_checksum(frame, len, hdr.csum_start, hdr.csum_offset)) {
            ++h.dropped;
            continue;
        }
        slirp_input(h.slirp, frame, static_cast<int>(len));
    }
}

void run_timers(Helper& h) {
    int64_t now_ms = now_ns() / 1000000;
    // A callback may free or re-arm timers: copy the due ones first.
    std::vector<Timer*> due;
    for (Timer* t : h.timers) {
        if (t->expire_ms >= 0 && t->expire_ms <= now_ms) due.push_back(t);
    }
    for (Timer* t : due) {
        bool alive = false;
        for (Timer* u : h.timers) alive |= u == t;
        if (!alive) continue;
        t->expire_ms = -1;
        t->cb(t->cb_opaque);
    }
}

int next_timeout_ms(const Helper& h, uint32_t slirp_timeout) {
    int64_t now_ms = now_ns() / 1000000;
    int64_t best = slirp_timeout;
    for (const Timer* t : h.timers) {
        if (t->expire_ms < 0) continue;
        int64_t d = t->expire_ms - now_ms;
        if (d < best) best = d < 0 ? 0 : d;
    }
    return static_cast<int>(best);
}

}  // namespace

// libslirp listens on a published TCP port with a backlog of one: a client
// that opens many connections at once (redis-benchmark opens 50) has SYNs
// dropped and waits out the host's SYN retransmission, a second or more.
// Each listening TCP socket this process holds is a published port; a
// second listen() on it only raises the backlog.
void widen_published_backlogs() {
    for (int fd = 3; fd < 1024; ++fd) {
        int listening = 0;
        socklen_t len = sizeof(listening);
        if (getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &len) != 0 || !listening) continue;
        int type = 0;
        len = sizeof(type);
        if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) == 0 && type == SOCK_STREAM) {
            (void)listen(fd, SOMAXCONN);
        }
    }
}

int main(int argc, char** argv) {
    Helper h;
    int status_fd = -1;
    kiln::vmm::NetOptions opt;
    char err[256];
    for (int i = 1; i < argc; ++i) {
        const char* a = argv[i];
        const char* v = i + 1 < argc ? argv[i + 1] : nullptr;
        if (strcmp(a, "--fd") == 0 && v) {
            h.vmm_fd = atoi(v);
            ++i;
        } else if (strcmp(a, "--status-fd") == 0 && v) {
            status_fd = atoi(v);
            ++i;
        } else if (strcmp(a, "--publish") == 0 && v) {
            if (!kiln::vmm::add_publish(v, &opt, err, sizeof(err))) die("%s", err);
            ++i;
        } else {
            die("kiln-slirp is started by kiln-vmm (--net user), not by hand; unexpected "
                "argument '%s'", a);
        }
    }
    if (h.vmm_fd < 0) die("kiln-slirp: no --fd given; it is started by kiln-vmm (--net user)");

    SlirpConfig cfg = {};
    cfg.version = 3;
    cfg.restricted = 0;
    cfg.in_enabled = true;
    inet_pton(AF_INET, "10.0.2.0", &cfg.vnetwork);
    inet_pton(AF_INET, "255.255.255.0", &cfg.vnetmask);
    inet_pton(AF_INET, "10.0.2.2", &cfg.vhost);
    inet_pton(AF_INET, "10.0.2.15", &cfg.vdhcp_start);
    inet_pton(AF_INET, "10.0.2.3", &cfg.vnameserver);
    cfg.in6_enabled = false;
    cfg.vhostname = "kiln";
    cfg.if_mtu = 1500;
    cfg.if_mru = 1500;
    cfg.disable_host_loopback = false;  // 10.0.2.2 is the host's 127.0.0.1
    cfg.enable_emu = false;

    SlirpCb cb = {};
    cb.send_packet = send_packet;
    cb.guest_error = guest_error;
    cb.clock_get_ns = clock_get_ns;
    cb.timer_new = timer_new;
    cb.timer_free = timer_free;
    cb.timer_mod = timer_mod;
    cb.register_poll_fd = register_poll_fd;
    cb.unregister_poll_fd = unregister_poll_fd;
    cb.notify = notify;
    h.slirp = slirp_new(&cfg, &cb, &h);
    if (h.slirp == nullptr) die("libslirp could not set up user-mode networking");

    struct in_addr guest;
    inet_pton(AF_INET, "10.0.2.15", &guest);
    for (int i = 0; i < opt.publish_count; ++i) {
        const kiln::vmm::PortForward& f = opt.publish[i];
        struct in_addr host;
        memcpy(&host.s_addr, f.host_addr, 4);
        errno = 0;
        if (slirp_add_hostfwd(h.slirp, f.udp, host, f.host_port, guest, f.guest_port) < 0) {
            char ip[INET_ADDRSTRLEN];
            inet_ntop(AF_INET, &host, ip, sizeof(ip));
            die("cannot publish %s:%u/%s: %s; choose another host port (-p)", ip, f.host_port,
                f.udp ? "udp" : "tcp",
                errno != 0 ? strerror(errno) : "the address cannot be bound");
        }
    }
    widen_published_backlogs();
    if (status_fd >= 0) {
        (void)!write(status_fd, "ok", 2);
        close(status_fd);
    }

    // Once kiln-vmm is gone, what slirp still holds for the host (a
    // server's last response) is written out before the helper ends: it
    // stays until no socket wants to send, at most a second.
    int64_t closing_deadline = -1;
    for (;;) {
        h.pollfds.clear();
        h.pollfds.push_back(pollfd{closing_deadline < 0 ? h.vmm_fd : -1, POLLIN, 0});
        uint32_t timeout = 1000;
        slirp_pollfds_fill(h.slirp, &timeout, add_poll, &h);
        if (closing_deadline >= 0) {
            bool sending = false;
            for (size_t i = 1; i < h.pollfds.size(); ++i) sending |= h.pollfds[i].events & POLLOUT;
            if (!sending || now_ns() > closing_deadline) return 0;
            timeout = 10;
        }
        int n = poll(h.pollfds.data(), h.pollfds.size(), next_timeout_ms(h, timeout));
        if (n < 0 && errno != EINTR) die("kiln-slirp: poll failed: %s", strerror(errno));
        if (n > 0 && h.pollfds[0].revents != 0) {
            bool gone = (h.pollfds[0].revents & (POLLHUP | POLLERR)) &&
                        !(h.pollfds[0].revents & POLLIN);
            if (gone || !from_guest(h)) closing_deadline = now_ns() + 1000000000;
        }
        slirp_pollfds_poll(h.slirp, n < 0, get_revents, &h);
        run_timers(h);
    }
}
