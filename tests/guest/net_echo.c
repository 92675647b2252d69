// An echo server for the network end-to-end tests (tests/e2e/net_e2e_test):
// every byte a TCP client sends comes back on the same connection, every
// UDP datagram goes back to its sender. One epoll loop serves any number of
// connections, each with a bounded buffer (a slow reader is not read from
// until it has taken its echo), so 1,000 clients at once and 100 MiB
// streams both work.
//
//   net_echo [--port N] [--udp] [--v4]
//
// It listens on [::] (IPv4 and IPv6, IPV6_V6ONLY off) unless --v4, prints
// "listening" once bound, and runs until killed.
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <unistd.h>

enum { kBufSize = 16 * 1024, kMaxConns = 4096 };

struct Conn {
    int fd;
    char buf[kBufSize];
    size_t start, len;  // bytes received, not yet echoed
    int eof;            // the client is done sending
};

static struct Conn* conns[kMaxConns];
static volatile long accepted, open_now, bytes_echoed;

// SIGUSR1 prints what the server has done (for debugging a test).
static void on_usr1(int sig) {
    (void)sig;
    char line[96];
    int n = snprintf(line, sizeof(line), "accepted %ld open %ld echoed %ld\n", accepted, open_now,
                     bytes_echoed);
    (void)!write(2, line, (size_t)n);
}

static void die(const char* what) {
    fprintf(stderr, "net_echo: %s: %s\n", what, strerror(errno));
    exit(1);
}

static int listen_socket(int type, int port, int v4) {
    int fd = socket(v4 ? AF_INET : AF_INET6, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) die("socket");
    int one = 1, zero = 0;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (v4) {
        struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
        if (bind(fd, (struct sockaddr*)&a, sizeof(a)) != 0) die("bind");
    } else {
        if (setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof(zero)) != 0) die("IPV6_V6ONLY");
        struct sockaddr_in6 a = {.sin6_family = AF_INET6, .sin6_port = htons(port)};
        if (bind(fd, (struct sockaddr*)&a, sizeof(a)) != 0) die("bind");
    }
    if (type == SOCK_STREAM && listen(fd, 1024) != 0) die("listen");
    return fd;
}

static void udp_loop(int fd) {
    static char buf[65536];
    for (;;) {
        struct sockaddr_storage from;
        socklen_t len = sizeof(from);
        fd_set r;
        FD_ZERO(&r);
        FD_SET(fd, &r);
        if (select(fd + 1, &r, NULL, NULL, NULL) < 0 && errno != EINTR) die("select");
        ssize_t n = recvfrom(fd, buf, sizeof(buf), 0, (struct sockaddr*)&from, &len);
        if (n < 0) {
            if (errno == EAGAIN || errno == EINTR) continue;
            die("recvfrom");
        }
        if (sendto(fd, buf, (size_t)n, 0, (struct sockaddr*)&from, len) < 0) die("sendto");
    }
}

static void set_events(int ep, struct Conn* c) {
    struct epoll_event ev = {.events = c->len < kBufSize && !c->eof ? EPOLLIN | EPOLLRDHUP : 0,
                             .data.fd = c->fd};
    if (c->len > 0) ev.events |= EPOLLOUT;
    epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev);
}

static void drop(int ep, struct Conn* c) {
    epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
    close(c->fd);
    conns[c->fd] = NULL;
    open_now--;
    free(c);
}

// Reads what fits, writes what it can; false when the connection is done.
static int serve(int ep, struct Conn* c) {
    for (;;) {
        int progress = 0;
        if (c->len < kBufSize && !c->eof) {
            size_t end = (c->start + c->len) % kBufSize;
            size_t room = end >= c->start ? kBufSize - end : c->start - end;
            if (c->len == 0) c->start = end = 0, room = kBufSize;
            ssize_t n = read(c->fd, c->buf + end, room);
            if (n == 0 && c->len == 0) return 0;
            if (n == 0) {
                c->eof = 1;
            } else if (n > 0) {
                c->len += (size_t)n;
                progress = 1;
            } else if (errno != EAGAIN && errno != EINTR) {
                return 0;
            }
        }
        if (c->len > 0) {
            size_t chunk = c->start + c->len <= kBufSize ? c->len : kBufSize - c->start;
            ssize_t n = write(c->fd, c->buf + c->start, chunk);
            if (n > 0) {
                c->start = (c->start + (size_t)n) % kBufSize;
                c->len -= (size_t)n;
                bytes_echoed += n;
                progress = 1;
            } else if (n < 0 && errno != EAGAIN && errno != EINTR) {
                return 0;
            }
        }
        if (!progress) break;
    }
    if (c->eof && c->len == 0) return 0;  // all echoed: close
    set_events(ep, c);
    return 1;
}

int main(int argc, char** argv) {
    int port = 7, udp = 0, v4 = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--port") == 0 && i + 1 < argc) {
            port = atoi(argv[++i]);
        } else if (strcmp(argv[i], "--udp") == 0) {
            udp = 1;
        } else if (strcmp(argv[i], "--v4") == 0) {
            v4 = 1;
        } else {
            fprintf(stderr, "usage: net_echo [--port N] [--udp] [--v4]\n");
            return 2;
        }
    }
    signal(SIGUSR1, on_usr1);
    int lfd = listen_socket(udp ? SOCK_DGRAM : SOCK_STREAM, port, v4);
    printf("listening\n");
    fflush(stdout);
    if (udp) udp_loop(lfd);

    int ep = epoll_create1(EPOLL_CLOEXEC);
    if (ep < 0) die("epoll_create1");
    struct epoll_event ev = {.events = EPOLLIN, .data.fd = lfd};
    if (epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &ev) != 0) die("epoll_ctl");
    struct epoll_event events[256];
    for (;;) {
        int n = epoll_wait(ep, events, 256, -1);
        if (n < 0) {
            if (errno == EINTR) continue;
            die("epoll_wait");
        }
        for (int i = 0; i < n; i++) {
            int fd = events[i].data.fd;
            if (fd == lfd) {
                for (;;) {
                    int c = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
                    if (c < 0) break;
                    if (c >= kMaxConns) {
                        close(c);
                        continue;
                    }
                    int one = 1;
                    setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
                    struct Conn* conn = calloc(1, sizeof(*conn));
                    if (conn == NULL) die("calloc");
                    conn->fd = c;
                    conns[c] = conn;
                    accepted++;
                    open_now++;
                    struct epoll_event cev = {.events = EPOLLIN | EPOLLRDHUP, .data.fd = c};
                    epoll_ctl(ep, EPOLL_CTL_ADD, c, &cev);
                }
                continue;
            }
            struct Conn* c = conns[fd];
            if (c != NULL && !serve(ep, c)) drop(ep, c);
        }
    }
}
