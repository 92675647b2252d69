/* TCP and UDP over the guest's loopback (127.0.0.1, ::1) through kiln's
   stack: listen/accept/connect/echo with a client thread, non-blocking
   connect (EINPROGRESS, poll, SO_ERROR), epoll and poll readiness,
   shutdown, EPIPE with SIGPIPE ignored, MSG_PEEK, FIONREAD, a refused
   connection, UDP datagrams with their senders, a 1 MiB transfer with a
   checksum, the options the syscall census lists, and bad input with
   Linux's errors. Exits non-zero at the first failure. It passes on
   Linux itself too: run it on the host to check an expectation. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "check.h"

static struct sockaddr_in loopback(uint16_t port) {
    struct sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    return a;
}

/* A listening TCP socket on 127.0.0.1 and an ephemeral port. */
static int listener(int flags, uint16_t* port) {
    int s = socket(AF_INET, SOCK_STREAM | flags, 0);
    if (s < 0) return -1;
    int one = 1;
    if (setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0) return -1;
    struct sockaddr_in a = loopback(0);
    if (bind(s, (struct sockaddr*)&a, sizeof a) != 0) return -1;
    socklen_t len = sizeof a;
    if (getsockname(s, (struct sockaddr*)&a, &len) != 0) return -1;
    *port = ntohs(a.sin_port);
    if (listen(s, 16) != 0) return -1;
    return s;
}

static uint16_t g_port;

static void* echo_client(void* arg) {
    (void)arg;
    int c = socket(AF_INET, SOCK_STREAM, IPPROTO_TCP);
    struct sockaddr_in a = loopback(g_port);
    if (connect(c, (struct sockaddr*)&a, sizeof a) != 0) return (void*)1;
    int one = 1;
    setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    char buf[64];
    for (int i = 0; i < 5; i++) {
        char msg[32];
        int n = snprintf(msg, sizeof msg, "round trip %d", i);
        if (send(c, msg, n, MSG_NOSIGNAL) != n) return (void*)2;
        int got = 0;
        while (got < n) {
            ssize_t r = recv(c, buf + got, sizeof buf - got, 0);
            if (r <= 0) return (void*)3;
            got += r;
        }
        if (memcmp(buf, msg, n) != 0) return (void*)4;
    }
    shutdown(c, SHUT_WR);
    ssize_t r = recv(c, buf, sizeof buf, 0); /* the server closes after EOF */
    close(c);
    return r == 0 ? NULL : (void*)5;
}

static int tcp_echo(void) {
    int s = listener(SOCK_CLOEXEC, &g_port);
    CHECK(s >= 0, "listening socket on 127.0.0.1");
    int v = 0;
    socklen_t vl = sizeof v;
    CHECK(getsockopt(s, SOL_SOCKET, SO_ACCEPTCONN, &v, &vl) == 0 && v == 1, "SO_ACCEPTCONN");
    pthread_t t;
    CHECK(pthread_create(&t, NULL, echo_client, NULL) == 0, "pthread_create");
    struct sockaddr_in peer;
    socklen_t plen = sizeof peer;
    int c = accept(s, (struct sockaddr*)&peer, &plen);
    CHECK(c >= 0, "accept (blocking)");
    CHECK(plen == sizeof peer && peer.sin_family == AF_INET && peer.sin_addr.s_addr == htonl(INADDR_LOOPBACK),
          "accept names the peer");
    struct sockaddr_in gp;
    socklen_t gpl = sizeof gp;
    CHECK(getpeername(c, (struct sockaddr*)&gp, &gpl) == 0 && gp.sin_port == peer.sin_port, "getpeername");
    char buf[256];
    ssize_t n;
    while ((n = read(c, buf, sizeof buf)) > 0) CHECK(write(c, buf, n) == n, "echo write");
    CHECK(n == 0, "EOF after the client's SHUT_WR");
    close(c);
    void* ret;
    pthread_join(t, &ret);
    CHECK(ret == NULL, "client thread succeeded");
    close(s);
    return 0;
}

/* One thread: a non-blocking connect completes while poll waits. */
static int nonblocking_connect(void) {
    uint16_t port;
    int s = listener(SOCK_NONBLOCK, &port);
    CHECK(s >= 0, "non-blocking listener");
    CHECK(accept(s, NULL, NULL) < 0 && errno == EAGAIN, "accept on an empty queue: EAGAIN");
    int c = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    struct sockaddr_in a = loopback(port);
    int r = connect(c, (struct sockaddr*)&a, sizeof a);
    CHECK(r == 0 || errno == EINPROGRESS, "non-blocking connect: EINPROGRESS");
    struct pollfd p = {c, POLLOUT, 0};
    CHECK(poll(&p, 1, 5000) == 1 && (p.revents & POLLOUT), "connect completes: POLLOUT");
    int err = -1;
    socklen_t el = sizeof err;
    CHECK(getsockopt(c, SOL_SOCKET, SO_ERROR, &err, &el) == 0 && err == 0, "SO_ERROR 0");
    struct pollfd lp = {s, POLLIN, 0};
    CHECK(poll(&lp, 1, 5000) == 1, "the listener is readable");
    int sc = accept4(s, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
    CHECK(sc >= 0, "accept4");
    CHECK(fcntl(sc, F_GETFL) & O_NONBLOCK, "accept4 SOCK_NONBLOCK");
    CHECK(fcntl(sc, F_GETFD) == FD_CLOEXEC, "accept4 SOCK_CLOEXEC");
    char buf[16];
    CHECK(recv(sc, buf, sizeof buf, 0) < 0 && errno == EAGAIN, "no data yet: EAGAIN");

    /* epoll: data, MSG_PEEK, FIONREAD, then RDHUP after SHUT_WR */
    int ep = epoll_create1(EPOLL_CLOEXEC);
    struct epoll_event ev = {EPOLLIN | EPOLLRDHUP, {.fd = sc}};
    CHECK(epoll_ctl(ep, EPOLL_CTL_ADD, sc, &ev) == 0, "epoll_ctl ADD");
    CHECK(send(c, "peekaboo", 8, 0) == 8, "send");
    struct epoll_event out;
    CHECK(epoll_wait(ep, &out, 1, 5000) == 1 && (out.events & EPOLLIN), "EPOLLIN");
    int avail = 0;
    CHECK(ioctl(sc, FIONREAD, &avail) == 0 && avail == 8, "FIONREAD");
    CHECK(recv(sc, buf, 4, MSG_PEEK) == 4 && memcmp(buf, "peek", 4) == 0, "MSG_PEEK");
    CHECK(recv(sc, buf, sizeof buf, 0) == 8 && memcmp(buf, "peekaboo", 8) == 0, "the peeked bytes again");
    CHECK(shutdown(c, SHUT_WR) == 0, "shutdown SHUT_WR");
    CHECK(epoll_wait(ep, &out, 1, 5000) == 1 && (out.events & EPOLLRDHUP), "EPOLLRDHUP");
    CHECK(recv(sc, buf, sizeof buf, 0) == 0, "EOF");
    /* the other direction still works */
    CHECK(send(sc, "back", 4, 0) == 4, "send back");
    p.events = POLLIN;
    CHECK(poll(&p, 1, 5000) == 1, "readable");
    CHECK(recv(c, buf, sizeof buf, 0) == 4, "recv back");
    /* the peer closes: writes fail with EPIPE (or ECONNRESET), no SIGPIPE */
    close(sc);
    signal(SIGPIPE, SIG_IGN);
    int failed = 0;
    for (int i = 0; i < 100 && !failed; i++) {
        if (send(c, "x", 1, 0) < 0) {
            CHECK(errno == EPIPE || errno == ECONNRESET, "write after the peer closed: EPIPE");
            failed = 1;
        } else {
            poll(&p, 1, 10);
        }
    }
    CHECK(failed, "writes to a closed peer fail");
    signal(SIGPIPE, SIG_DFL);
    close(ep);
    close(c);
    close(s);
    return 0;
}

static int refused(void) {
    uint16_t port;
    int s = listener(0, &port);
    CHECK(s >= 0, "listener");
    close(s); /* nothing listens on port now */
    int c = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = loopback(port);
    CHECK(connect(c, (struct sockaddr*)&a, sizeof a) < 0 && errno == ECONNREFUSED, "blocking connect: ECONNREFUSED");
    close(c);
    c = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    int r = connect(c, (struct sockaddr*)&a, sizeof a);
    if (r < 0 && errno == EINPROGRESS) {
        struct pollfd p = {c, POLLOUT, 0};
        CHECK(poll(&p, 1, 5000) == 1, "a refused connect ends");
        int err = 0;
        socklen_t el = sizeof err;
        CHECK(getsockopt(c, SOL_SOCKET, SO_ERROR, &err, &el) == 0 && err == ECONNREFUSED, "SO_ERROR ECONNREFUSED");
    } else {
        CHECK(r < 0 && errno == ECONNREFUSED, "non-blocking connect: ECONNREFUSED");
    }
    close(c);
    return 0;
}

static int udp(void) {
    int a = socket(AF_INET, SOCK_DGRAM, 0), b = socket(AF_INET, SOCK_DGRAM, IPPROTO_UDP);
    CHECK(a >= 0 && b >= 0, "UDP sockets");
    struct sockaddr_in aa = loopback(0), ba = loopback(0);
    CHECK(bind(a, (struct sockaddr*)&aa, sizeof aa) == 0 && bind(b, (struct sockaddr*)&ba, sizeof ba) == 0, "bind");
    socklen_t l = sizeof aa;
    getsockname(a, (struct sockaddr*)&aa, &l);
    l = sizeof ba;
    getsockname(b, (struct sockaddr*)&ba, &l);
    CHECK(aa.sin_port != 0 && aa.sin_port != ba.sin_port, "ephemeral ports");
    CHECK(sendto(a, "first", 5, 0, (struct sockaddr*)&ba, sizeof ba) == 5, "sendto");
    CHECK(sendto(a, "second!", 7, 0, (struct sockaddr*)&ba, sizeof ba) == 7, "sendto again");
    struct pollfd p = {b, POLLIN, 0};
    CHECK(poll(&p, 1, 5000) == 1, "datagram arrives");
    int avail = 0;
    CHECK(ioctl(b, FIONREAD, &avail) == 0 && avail == 5, "FIONREAD is the first datagram");
    char buf[16];
    struct sockaddr_in from;
    socklen_t fl = sizeof from;
    CHECK(recvfrom(b, buf, sizeof buf, 0, (struct sockaddr*)&from, &fl) == 5 && memcmp(buf, "first", 5) == 0,
          "recvfrom");
    CHECK(fl == sizeof from && from.sin_port == aa.sin_port, "recvfrom names the sender");
    CHECK(poll(&p, 1, 5000) == 1, "second datagram");
    struct iovec iov = {buf, 3};
    struct msghdr m = {0};
    m.msg_iov = &iov;
    m.msg_iovlen = 1;
    m.msg_name = &from;
    m.msg_namelen = sizeof from;
    CHECK(recvmsg(b, &m, 0) == 3 && (m.msg_flags & MSG_TRUNC), "recvmsg truncates: MSG_TRUNC");
    CHECK(m.msg_namelen == sizeof from, "msg_namelen");
    /* connected UDP: send/recv without addresses; AF_UNSPEC dissolves */
    int c = socket(AF_INET, SOCK_DGRAM, 0);
    CHECK(connect(c, (struct sockaddr*)&aa, sizeof aa) == 0, "UDP connect");
    CHECK(send(c, "reply", 5, 0) == 5, "send on connected UDP");
    p.fd = a;
    CHECK(poll(&p, 1, 5000) == 1, "reply arrives");
    CHECK(recv(a, buf, sizeof buf, 0) == 5, "recv");
    struct sockaddr_in unspec = {.sin_family = AF_UNSPEC};
    CHECK(connect(c, (struct sockaddr*)&unspec, sizeof unspec) == 0, "UDP connect AF_UNSPEC dissolves");
    CHECK(send(c, "x", 1, 0) < 0 && errno == EDESTADDRREQ, "send after dissolving: EDESTADDRREQ");
    close(c);
    /* sendmmsg / recvmmsg */
    struct mmsghdr mm[2];
    struct iovec iv[2] = {{"m1", 2}, {"m22", 3}};
    memset(mm, 0, sizeof mm);
    for (int i = 0; i < 2; i++) {
        mm[i].msg_hdr.msg_iov = &iv[i];
        mm[i].msg_hdr.msg_iovlen = 1;
        mm[i].msg_hdr.msg_name = &ba;
        mm[i].msg_hdr.msg_namelen = sizeof ba;
    }
    CHECK(sendmmsg(a, mm, 2, 0) == 2 && mm[0].msg_len == 2 && mm[1].msg_len == 3, "sendmmsg");
    char b1[8], b2[8];
    struct iovec rv[2] = {{b1, sizeof b1}, {b2, sizeof b2}};
    struct mmsghdr rm[2];
    memset(rm, 0, sizeof rm);
    for (int i = 0; i < 2; i++) {
        rm[i].msg_hdr.msg_iov = &rv[i];
        rm[i].msg_hdr.msg_iovlen = 1;
    }
    p.fd = b;
    CHECK(poll(&p, 1, 5000) == 1, "mmsg datagrams arrive");
    usleep(1000);
    int got = recvmmsg(b, rm, 2, MSG_DONTWAIT, NULL);
    CHECK(got >= 1 && rm[0].msg_len == 2, "recvmmsg");
    close(a);
    close(b);
    return 0;
}

struct bulk {
    uint16_t port;
    size_t bytes;
    uint32_t sum;
};

static uint32_t add_sum(uint32_t s, const unsigned char* p, size_t n) {
    for (size_t i = 0; i < n; i++) s = s * 31 + p[i];
    return s;
}

static void* bulk_sender(void* arg) {
    struct bulk* b = arg;
    int c = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = loopback(b->port);
    if (connect(c, (struct sockaddr*)&a, sizeof a) != 0) return (void*)1;
    static unsigned char chunk[32768];
    uint32_t sum = 0, x = 12345;
    for (size_t sent = 0; sent < b->bytes;) {
        for (size_t i = 0; i < sizeof chunk; i++) {
            x = x * 1103515245 + 12345;
            chunk[i] = (unsigned char)(x >> 16);
        }
        size_t n = b->bytes - sent < sizeof chunk ? b->bytes - sent : sizeof chunk;
        if (write(c, chunk, n) != (ssize_t)n) return (void*)2;
        sum = add_sum(sum, chunk, n);
        sent += n;
    }
    b->sum = sum;
    close(c);
    return NULL;
}

static int bulk(void) {
    struct bulk b = {0, 1 << 20, 0};
    int s = listener(0, &b.port);
    CHECK(s >= 0, "listener");
    pthread_t t;
    CHECK(pthread_create(&t, NULL, bulk_sender, &b) == 0, "pthread_create");
    int c = accept(s, NULL, NULL);
    CHECK(c >= 0, "accept");
    static unsigned char buf[65536];
    size_t total = 0;
    uint32_t sum = 0;
    ssize_t n;
    while ((n = read(c, buf, sizeof buf)) > 0) {
        sum = add_sum(sum, buf, n);
        total += n;
    }
    CHECK(n == 0, "EOF after 1 MiB");
    void* ret;
    pthread_join(t, &ret);
    CHECK(ret == NULL, "sender succeeded");
    CHECK(total == b.bytes && sum == b.sum, "1 MiB arrives intact");
    close(c);
    close(s);
    return 0;
}

/* Many connections at once through one epoll loop (one thread): each
   client sends its index, the server echoes it back. */
#define kMany 400
static int many_connections(void) {
    uint16_t port;
    int s = listener(SOCK_NONBLOCK, &port);
    CHECK(s >= 0, "listener");
    CHECK(listen(s, 512) == 0, "listen 512");
    int ep = epoll_create1(0);
    struct epoll_event ev = {EPOLLIN, {.fd = s}};
    CHECK(epoll_ctl(ep, EPOLL_CTL_ADD, s, &ev) == 0, "epoll listener");
    static int cli[kMany];
    static char is_client[2048];
    struct sockaddr_in a = loopback(port);
    for (int i = 0; i < kMany; i++) {
        cli[i] = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
        CHECK(cli[i] >= 0 && cli[i] < 2048, "client socket");
        int r = connect(cli[i], (struct sockaddr*)&a, sizeof a);
        CHECK(r == 0 || errno == EINPROGRESS, "connect");
        is_client[cli[i]] = 1;
        struct epoll_event ce = {EPOLLOUT, {.fd = cli[i]}};
        CHECK(epoll_ctl(ep, EPOLL_CTL_ADD, cli[i], &ce) == 0, "epoll client");
    }
    int echoed = 0, accepted = 0;
    struct epoll_event out[64];
    while (echoed < kMany) {
        // 30 s: under QEMU TCG on a loaded machine a few seconds can pass
        // between events; a stalled connection still fails the check.
        int n = epoll_wait(ep, out, 64, 30000);
        CHECK(n > 0, "epoll_wait makes progress");
        for (int k = 0; k < n; k++) {
            int fd = out[k].data.fd;
            if (fd == s) {
                int c;
                while ((c = accept4(s, NULL, NULL, SOCK_NONBLOCK)) >= 0) {
                    struct epoll_event se = {EPOLLIN, {.fd = c}};
                    CHECK(epoll_ctl(ep, EPOLL_CTL_ADD, c, &se) == 0, "epoll server side");
                    accepted++;
                }
                CHECK(errno == EAGAIN, "accept4 until EAGAIN");
            } else if (is_client[fd] && (out[k].events & EPOLLOUT)) {
                int v = fd;
                CHECK(send(fd, &v, sizeof v, 0) == sizeof v, "client send");
                struct epoll_event ce = {EPOLLIN, {.fd = fd}};
                CHECK(epoll_ctl(ep, EPOLL_CTL_MOD, fd, &ce) == 0, "epoll MOD");
            } else if (is_client[fd]) {
                int v = -1;
                CHECK(recv(fd, &v, sizeof v, 0) == sizeof v && v == fd, "client gets its echo");
                CHECK(epoll_ctl(ep, EPOLL_CTL_DEL, fd, NULL) == 0, "epoll DEL");
                close(fd);
                echoed++;
            } else {
                char buf[16];
                ssize_t r = recv(fd, buf, sizeof buf, 0);
                if (r > 0) {
                    CHECK(send(fd, buf, r, 0) == r, "server echo");
                } else {
                    CHECK(r == 0, "server sees EOF");
                    epoll_ctl(ep, EPOLL_CTL_DEL, fd, NULL);
                    close(fd);
                }
            }
        }
    }
    CHECK(accepted == kMany, "every connection accepted");
    close(ep);
    close(s);
    return 0;
}

static int ipv6(void) {
    int s = socket(AF_INET6, SOCK_STREAM | SOCK_NONBLOCK, 0);
    CHECK(s >= 0, "AF_INET6 socket");
    struct sockaddr_in6 a;
    memset(&a, 0, sizeof a);
    a.sin6_family = AF_INET6;
    a.sin6_addr = in6addr_loopback;
    CHECK(bind(s, (struct sockaddr*)&a, sizeof a) == 0, "bind [::1]:0");
    socklen_t l = sizeof a;
    CHECK(getsockname(s, (struct sockaddr*)&a, &l) == 0 && l == sizeof a && a.sin6_port != 0, "getsockname v6");
    CHECK(listen(s, 4) == 0, "listen v6");
    int c = socket(AF_INET6, SOCK_STREAM | SOCK_NONBLOCK, 0);
    int r = connect(c, (struct sockaddr*)&a, sizeof a);
    CHECK(r == 0 || errno == EINPROGRESS, "connect [::1]");
    struct pollfd p = {s, POLLIN, 0};
    CHECK(poll(&p, 1, 5000) == 1, "v6 connection arrives");
    int sc = accept(s, NULL, NULL);
    CHECK(sc >= 0, "accept v6");
    p.fd = c;
    p.events = POLLOUT;
    CHECK(poll(&p, 1, 5000) == 1, "v6 connect completes");
    CHECK(send(c, "six", 3, 0) == 3, "send v6");
    p.fd = sc;
    p.events = POLLIN;
    char buf[8];
    CHECK(poll(&p, 1, 5000) == 1 && recv(sc, buf, sizeof buf, 0) == 3, "recv v6");
    close(sc);
    close(c);
    close(s);
    return 0;
}

static int options(void) {
    int s = socket(AF_INET, SOCK_STREAM, 0);
    int v = 1;
    socklen_t l = sizeof v;
    CHECK(setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &v, sizeof v) == 0, "SO_REUSEADDR");
    CHECK(getsockopt(s, SOL_SOCKET, SO_REUSEADDR, &v, &l) == 0 && v != 0, "SO_REUSEADDR back");
    CHECK(setsockopt(s, SOL_SOCKET, SO_KEEPALIVE, &v, sizeof v) == 0, "SO_KEEPALIVE");
    v = 0;
    CHECK(getsockopt(s, SOL_SOCKET, SO_KEEPALIVE, &v, &l) == 0 && v != 0, "SO_KEEPALIVE back");
    v = 1;
    CHECK(setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &v, sizeof v) == 0, "TCP_NODELAY");
    v = 0;
    CHECK(getsockopt(s, IPPROTO_TCP, TCP_NODELAY, &v, &l) == 0 && v != 0, "TCP_NODELAY back");
    v = 1;
    CHECK(setsockopt(s, IPPROTO_TCP, TCP_CORK, &v, sizeof v) == 0, "TCP_CORK on");
    v = 0;
    CHECK(setsockopt(s, IPPROTO_TCP, TCP_CORK, &v, sizeof v) == 0, "TCP_CORK off");
    v = 30;
    CHECK(setsockopt(s, IPPROTO_TCP, TCP_KEEPIDLE, &v, sizeof v) == 0, "TCP_KEEPIDLE");
    CHECK(setsockopt(s, IPPROTO_TCP, TCP_KEEPINTVL, &v, sizeof v) == 0, "TCP_KEEPINTVL");
    v = 3;
    CHECK(setsockopt(s, IPPROTO_TCP, TCP_KEEPCNT, &v, sizeof v) == 0, "TCP_KEEPCNT");
    CHECK(getsockopt(s, IPPROTO_TCP, TCP_KEEPCNT, &v, &l) == 0 && v == 3, "TCP_KEEPCNT back");
    CHECK(getsockopt(s, SOL_SOCKET, SO_TYPE, &v, &l) == 0 && v == SOCK_STREAM, "SO_TYPE");
    CHECK(getsockopt(s, SOL_SOCKET, SO_PROTOCOL, &v, &l) == 0 && v == IPPROTO_TCP, "SO_PROTOCOL");
    CHECK(getsockopt(s, SOL_SOCKET, SO_DOMAIN, &v, &l) == 0 && v == AF_INET, "SO_DOMAIN");
    CHECK(getsockopt(s, SOL_SOCKET, SO_RCVBUF, &v, &l) == 0 && v > 0, "SO_RCVBUF");
    v = 1;
    CHECK(setsockopt(s, IPPROTO_IPV6, IPV6_V6ONLY, &v, sizeof v) < 0 && errno == ENOPROTOOPT,
          "IPV6_V6ONLY on AF_INET: ENOPROTOOPT");
    struct timeval tv = {1, 500000};
    CHECK(setsockopt(s, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv) == 0, "SO_SNDTIMEO");
    struct timeval back;
    socklen_t bl = sizeof back;
    CHECK(getsockopt(s, SOL_SOCKET, SO_SNDTIMEO, &back, &bl) == 0 && back.tv_sec == 1 && back.tv_usec == 500000,
          "SO_SNDTIMEO back");
    close(s);
    int u = socket(AF_INET6, SOCK_DGRAM, 0);
    v = 1;
    CHECK(setsockopt(u, IPPROTO_IPV6, IPV6_V6ONLY, &v, sizeof v) == 0, "IPV6_V6ONLY on AF_INET6");
    v = 0;
    CHECK(getsockopt(u, IPPROTO_IPV6, IPV6_V6ONLY, &v, &l) == 0 && v == 1, "IPV6_V6ONLY back");
    close(u);
    return 0;
}

static int bad_input(void) {
    int s = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = loopback(0);
    CHECK(bind(s, (struct sockaddr*)&a, 8) < 0 && errno == EINVAL, "short sockaddr_in: EINVAL");
    struct sockaddr_in6 a6;
    memset(&a6, 0, sizeof a6);
    a6.sin6_family = AF_INET6;
    CHECK(bind(s, (struct sockaddr*)&a6, sizeof a6) < 0 && errno == EAFNOSUPPORT, "IPv6 address on AF_INET: EAFNOSUPPORT");
    CHECK(connect(s, (struct sockaddr*)8, sizeof a) < 0 && errno == EFAULT, "bad pointer: EFAULT");
    CHECK(socket(AF_INET, SOCK_STREAM, IPPROTO_UDP) < 0 && errno == EPROTONOSUPPORT, "TCP with IPPROTO_UDP: EPROTONOSUPPORT");
    CHECK(send(s, "x", 1, MSG_NOSIGNAL) < 0 && (errno == ENOTCONN || errno == EPIPE), "send unconnected");
    close(s);
    int u = socket(AF_INET, SOCK_DGRAM, 0);
    CHECK(listen(u, 1) < 0 && errno == EOPNOTSUPP, "listen on UDP: EOPNOTSUPP");
    CHECK(accept(u, NULL, NULL) < 0 && errno == EOPNOTSUPP, "accept on UDP: EOPNOTSUPP");
    CHECK(send(u, "x", 1, 0) < 0 && (errno == EDESTADDRREQ || errno == ENOTCONN), "send unconnected UDP");
    close(u);
    /* kiln has no packet sockets (Linux gives root one) */
    int pk = socket(AF_PACKET, SOCK_RAW, 0);
    CHECK(pk >= 0 || errno == EAFNOSUPPORT, "AF_PACKET: a socket or EAFNOSUPPORT");
    if (pk >= 0) close(pk);
    return 0;
}

int main(int argc, char** argv) {
    (void)argc;
    (void)argv;
    if (tcp_echo() || nonblocking_connect() || refused() || udp() || bulk() || many_connections() || ipv6() || options() || bad_input())
        return 1;
    printf("net_inet: all ok\n");
    return 0;
}
