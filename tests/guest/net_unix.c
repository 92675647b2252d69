/* AF_UNIX sockets inside kiln: socketpair stream and datagram, a server
   bound to a path with a client thread, abstract names, SCM_RIGHTS,
   readiness through poll and epoll (IN/OUT/RDHUP/HUP), shutdown, EOF and
   EPIPE, MSG_PEEK/MSG_TRUNC/MSG_DONTWAIT, FIONREAD/SIOCOUTQ, non-blocking
   modes, SO_RCVTIMEO, options, sendfile to a socket and bad input with
   Linux's errors. Exits non-zero at the first failure. It passes on
   Linux itself too: run it on the host to check an expectation. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <unistd.h>

#include "check.h"

#ifndef SIOCOUTQ
#define SIOCOUTQ 0x5411
#endif

static int stream_pair(void) {
    int sv[2];
    CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0, "socketpair stream");
    struct pollfd p = {sv[1], POLLIN | POLLOUT, 0};
    CHECK(poll(&p, 1, 0) == 1 && p.revents == POLLOUT, "fresh pair: writable, not readable");
    CHECK(write(sv[0], "hello", 5) == 5, "write");
    CHECK(send(sv[0], " world", 6, MSG_NOSIGNAL) == 6, "send");
    int n = -1;
    CHECK(ioctl(sv[1], FIONREAD, &n) == 0 && n == 11, "FIONREAD");
    /* Linux counts its buffers' overhead too: at least the bytes */
    CHECK(ioctl(sv[0], SIOCOUTQ, &n) == 0 && n >= 11, "SIOCOUTQ");
    char buf[64];
    CHECK(recv(sv[1], buf, sizeof buf, MSG_PEEK) == 11, "MSG_PEEK");
    CHECK(read(sv[1], buf, 5) == 5 && memcmp(buf, "hello", 5) == 0, "read part");
    struct iovec iov[2] = {{buf, 3}, {buf + 3, 10}};
    CHECK(readv(sv[1], iov, 2) == 6 && memcmp(buf, " world", 6) == 0, "readv rest");
    CHECK(recv(sv[1], buf, 1, MSG_DONTWAIT) < 0 && errno == EAGAIN, "MSG_DONTWAIT on empty: EAGAIN");
    /* shutdown(SHUT_WR): the peer reads end of file and sees RDHUP */
    CHECK(shutdown(sv[0], SHUT_WR) == 0, "shutdown SHUT_WR");
    p.events = POLLIN | POLLRDHUP;
    CHECK(poll(&p, 1, 0) == 1 && (p.revents & POLLRDHUP) && (p.revents & POLLIN), "RDHUP after SHUT_WR");
    CHECK(read(sv[1], buf, sizeof buf) == 0, "EOF after SHUT_WR");
    CHECK(send(sv[0], "x", 1, MSG_NOSIGNAL) < 0 && errno == EPIPE, "send after SHUT_WR: EPIPE");
    CHECK(write(sv[1], "back", 4) == 4, "the other direction still works");
    CHECK(read(sv[0], buf, sizeof buf) == 4, "read back");
    /* close: HUP for the survivor, EPIPE (SIGPIPE ignored) */
    close(sv[0]);
    p.events = POLLIN | POLLOUT | POLLRDHUP;
    CHECK(poll(&p, 1, 0) == 1 && (p.revents & POLLHUP), "HUP after the peer closed");
    signal(SIGPIPE, SIG_IGN);
    CHECK(write(sv[1], "x", 1) < 0 && errno == EPIPE, "write to a closed peer: EPIPE");
    signal(SIGPIPE, SIG_DFL);
    struct stat st;
    CHECK(fstat(sv[1], &st) == 0 && S_ISSOCK(st.st_mode), "fstat says socket");
    CHECK(lseek(sv[1], 0, SEEK_CUR) < 0 && errno == ESPIPE, "lseek: ESPIPE");
    close(sv[1]);
    return 0;
}

static int dgram_pair(void) {
    int sv[2];
    CHECK(socketpair(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0, sv) == 0, "socketpair dgram");
    CHECK(fcntl(sv[0], F_GETFD) == FD_CLOEXEC, "SOCK_CLOEXEC");
    CHECK(send(sv[0], "one", 3, 0) == 3 && send(sv[0], "second", 6, 0) == 6, "two datagrams");
    char buf[16];
    CHECK(recv(sv[1], buf, sizeof buf, 0) == 3, "boundaries kept");
    CHECK(recv(sv[1], buf, 4, MSG_TRUNC) == 6, "MSG_TRUNC gives the full length");
    CHECK(send(sv[0], "msgtrunc", 8, 0) == 8, "third datagram");
    struct iovec iov = {buf, 3};
    struct msghdr m = {0};
    m.msg_iov = &iov;
    m.msg_iovlen = 1;
    CHECK(recvmsg(sv[1], &m, 0) == 3 && (m.msg_flags & MSG_TRUNC), "recvmsg flags MSG_TRUNC");
    int fl = fcntl(sv[1], F_GETFL);
    CHECK(fcntl(sv[1], F_SETFL, fl | O_NONBLOCK) == 0, "O_NONBLOCK via fcntl");
    CHECK(recv(sv[1], buf, sizeof buf, 0) < 0 && errno == EAGAIN, "empty: EAGAIN");
    close(sv[0]);
    close(sv[1]);
    return 0;
}

static const char kPath[] = "/tmp/kiln-net-unix.sock";

static void* client_thread(void* arg) {
    (void)arg;
    int c = socket(AF_UNIX, SOCK_STREAM, 0);
    struct sockaddr_un a = {0};
    a.sun_family = AF_UNIX;
    strcpy(a.sun_path, kPath);
    if (connect(c, (struct sockaddr*)&a, sizeof a) != 0) {
        printf("FAIL: client connect (errno %d)\n", errno);
        return (void*)1;
    }
    char buf[128];
    for (int i = 0; i < 3; i++) {
        char msg[32];
        int n = snprintf(msg, sizeof msg, "ping %d", i);
        if (write(c, msg, n) != n) return (void*)2;
        ssize_t r = read(c, buf, sizeof buf);
        if (r != n || memcmp(buf, msg, n) != 0) return (void*)3;
    }
    close(c);
    return NULL;
}

static int path_server(void) {
    unlink(kPath);
    int s = socket(AF_UNIX, SOCK_STREAM, 0);
    CHECK(s >= 0, "socket AF_UNIX");
    struct sockaddr_un a = {0};
    a.sun_family = AF_UNIX;
    strcpy(a.sun_path, kPath);
    socklen_t alen = offsetof(struct sockaddr_un, sun_path) + strlen(kPath) + 1;
    CHECK(listen(s, 4) < 0 && errno == EINVAL, "listen unbound: EINVAL");
    CHECK(bind(s, (struct sockaddr*)&a, alen) == 0, "bind to a path");
    struct stat st;
    CHECK(stat(kPath, &st) == 0 && S_ISSOCK(st.st_mode), "the path is a socket inode");
    int s2 = socket(AF_UNIX, SOCK_STREAM, 0);
    CHECK(bind(s2, (struct sockaddr*)&a, alen) < 0 && errno == EADDRINUSE, "bind a taken path: EADDRINUSE");
    close(s2);
    CHECK(listen(s, 4) == 0, "listen");
    int v = 0;
    socklen_t vl = sizeof v;
    CHECK(getsockopt(s, SOL_SOCKET, SO_ACCEPTCONN, &v, &vl) == 0 && v == 1, "SO_ACCEPTCONN");
    pthread_t t;
    CHECK(pthread_create(&t, NULL, client_thread, NULL) == 0, "pthread_create");
    struct sockaddr_un peer;
    socklen_t plen = sizeof peer;
    int c = accept(s, (struct sockaddr*)&peer, &plen);
    CHECK(c >= 0, "accept (blocking, the client thread connects)");
    CHECK(plen == offsetof(struct sockaddr_un, sun_path), "client is unnamed");
    struct sockaddr_un me;
    socklen_t mlen = sizeof me;
    CHECK(getsockname(c, (struct sockaddr*)&me, &mlen) == 0 && strcmp(me.sun_path, kPath) == 0,
          "accepted socket has the listener's name");
    CHECK(mlen == alen, "getsockname length includes the NUL");
    struct ucred cr;
    socklen_t crl = sizeof cr;
    CHECK(getsockopt(c, SOL_SOCKET, SO_PEERCRED, &cr, &crl) == 0 && cr.pid == getpid() &&
              cr.uid == geteuid(),
          "SO_PEERCRED");
    char buf[128];
    ssize_t n;
    while ((n = read(c, buf, sizeof buf)) > 0) CHECK(write(c, buf, n) == n, "echo");
    CHECK(n == 0, "EOF when the client closes");
    void* ret;
    pthread_join(t, &ret);
    CHECK(ret == NULL, "client thread succeeded");
    close(c);
    close(s);
    /* the inode stays after close and refuses connections */
    int d = socket(AF_UNIX, SOCK_STREAM, 0);
    CHECK(connect(d, (struct sockaddr*)&a, alen) < 0 && errno == ECONNREFUSED, "connect to a dead name: ECONNREFUSED");
    CHECK(unlink(kPath) == 0, "unlink the socket inode");
    CHECK(connect(d, (struct sockaddr*)&a, alen) < 0 && errno == ENOENT, "connect to a missing path: ENOENT");
    close(d);
    return 0;
}

static int seqpacket(void) {
    int sv[2];
    CHECK(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv) == 0, "socketpair SOCK_SEQPACKET");
    CHECK(write(sv[0], "one", 3) == 3 && write(sv[0], "two!", 4) == 4, "two records");
    char buf[16];
    CHECK(read(sv[1], buf, sizeof buf) == 3, "a read takes one record");
    struct iovec iov = {buf, 2};
    struct msghdr m = {0};
    m.msg_iov = &iov;
    m.msg_iovlen = 1;
    CHECK(recvmsg(sv[1], &m, 0) == 2 && (m.msg_flags & MSG_TRUNC), "a short read truncates: MSG_TRUNC");
    close(sv[0]);
    CHECK(read(sv[1], buf, sizeof buf) == 0, "EOF after the peer closed");
    close(sv[1]);
    return 0;
}

static int abstract_dgram(void) {
    int s = socket(AF_UNIX, SOCK_DGRAM, 0);
    struct sockaddr_un a = {0};
    a.sun_family = AF_UNIX;
    memcpy(a.sun_path, "\0kiln-abstract", 14);
    socklen_t alen = offsetof(struct sockaddr_un, sun_path) + 14;
    CHECK(bind(s, (struct sockaddr*)&a, alen) == 0, "bind abstract");
    int c = socket(AF_UNIX, SOCK_DGRAM, 0);
    CHECK(bind(c, (struct sockaddr*)&a, sizeof(sa_family_t)) == 0, "autobind");
    struct sockaddr_un ca;
    socklen_t calen = sizeof ca;
    CHECK(getsockname(c, (struct sockaddr*)&ca, &calen) == 0 && calen == offsetof(struct sockaddr_un, sun_path) + 6 &&
              ca.sun_path[0] == '\0',
          "autobound to an abstract name");
    CHECK(sendto(c, "hi", 2, 0, (struct sockaddr*)&a, alen) == 2, "sendto abstract");
    struct sockaddr_un from;
    socklen_t flen = sizeof from;
    char buf[8];
    CHECK(recvfrom(s, buf, sizeof buf, 0, (struct sockaddr*)&from, &flen) == 2, "recvfrom");
    CHECK(flen == calen && memcmp(from.sun_path, ca.sun_path, 6) == 0, "recvfrom names the sender");
    struct sockaddr_un none = {0};
    none.sun_family = AF_UNIX;
    memcpy(none.sun_path, "\0nobody", 7);
    CHECK(sendto(c, "x", 1, 0, (struct sockaddr*)&none, offsetof(struct sockaddr_un, sun_path) + 7) < 0 &&
              errno == ECONNREFUSED,
          "sendto an unused abstract name: ECONNREFUSED");
    close(c);
    close(s);
    return 0;
}

static int rights(void) {
    int sv[2], p[2];
    CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0, "socketpair");
    CHECK(pipe(p) == 0, "pipe");
    char data = 'r';
    struct iovec iov = {&data, 1};
    union {
        char buf[CMSG_SPACE(sizeof(int))];
        struct cmsghdr align;
    } u;
    struct msghdr m = {0};
    m.msg_iov = &iov;
    m.msg_iovlen = 1;
    m.msg_control = u.buf;
    m.msg_controllen = sizeof u.buf;
    struct cmsghdr* c = CMSG_FIRSTHDR(&m);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int));
    memcpy(CMSG_DATA(c), &p[1], sizeof(int));
    CHECK(sendmsg(sv[0], &m, 0) == 1, "sendmsg SCM_RIGHTS");
    close(p[1]);
    memset(&u, 0, sizeof u);
    struct msghdr r = {0};
    char got = 0;
    struct iovec riov = {&got, 1};
    r.msg_iov = &riov;
    r.msg_iovlen = 1;
    r.msg_control = u.buf;
    r.msg_controllen = sizeof u.buf;
    CHECK(recvmsg(sv[1], &r, MSG_CMSG_CLOEXEC) == 1 && got == 'r', "recvmsg");
    c = CMSG_FIRSTHDR(&r);
    CHECK(c != NULL && c->cmsg_type == SCM_RIGHTS && c->cmsg_len == CMSG_LEN(sizeof(int)), "SCM_RIGHTS received");
    int fd;
    memcpy(&fd, CMSG_DATA(c), sizeof fd);
    CHECK(fcntl(fd, F_GETFD) == FD_CLOEXEC, "MSG_CMSG_CLOEXEC");
    CHECK(write(fd, "via", 3) == 3, "write through the passed pipe end");
    char buf[4];
    CHECK(read(p[0], buf, 3) == 3 && memcmp(buf, "via", 3) == 0, "the bytes arrive");
    close(fd);
    close(p[0]);
    close(sv[0]);
    close(sv[1]);
    return 0;
}

static int readiness(void) {
    int sv[2];
    CHECK(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv) == 0, "socketpair nonblocking");
    int ep = epoll_create1(0);
    struct epoll_event ev = {EPOLLIN | EPOLLRDHUP | EPOLLET, {.fd = sv[1]}};
    CHECK(epoll_ctl(ep, EPOLL_CTL_ADD, sv[1], &ev) == 0, "epoll_ctl ADD socket");
    struct epoll_event out[2];
    CHECK(epoll_wait(ep, out, 2, 0) == 0, "nothing yet");
    CHECK(write(sv[0], "x", 1) == 1, "write");
    CHECK(epoll_wait(ep, out, 2, 0) == 1 && (out[0].events & EPOLLIN), "EPOLLIN");
    /* nginx's start-up check: RDHUP on a socketpair after close */
    close(sv[0]);
    CHECK(epoll_wait(ep, out, 2, 0) == 1 && (out[0].events & EPOLLRDHUP), "EPOLLRDHUP after close");
    close(ep);
    close(sv[1]);
    /* a full stream: not writable, EAGAIN; FIONBIO */
    CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0, "socketpair");
    int on = 1;
    CHECK(ioctl(sv[0], FIONBIO, &on) == 0, "FIONBIO");
    static char big[65536];
    size_t total = 0;
    ssize_t w;
    while ((w = write(sv[0], big, sizeof big)) > 0) total += w;
    CHECK(w < 0 && errno == EAGAIN && total > 0, "a full socket: EAGAIN");
    struct pollfd p = {sv[0], POLLOUT, 0};
    CHECK(poll(&p, 1, 0) == 0, "a full socket is not writable");
    on = 0;
    CHECK(ioctl(sv[0], FIONBIO, &on) == 0, "FIONBIO off");
    /* SO_RCVTIMEO: a blocking read times out with EAGAIN */
    struct timeval tv = {0, 20000};
    CHECK(setsockopt(sv[0], SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv) == 0, "SO_RCVTIMEO");
    struct timeval back;
    socklen_t bl = sizeof back;
    CHECK(getsockopt(sv[0], SOL_SOCKET, SO_RCVTIMEO, &back, &bl) == 0 && back.tv_usec == 20000, "SO_RCVTIMEO back");
    char c;
    CHECK(recv(sv[0], &c, 1, 0) < 0 && errno == EAGAIN, "timed out recv: EAGAIN");
    CHECK(read(sv[0], &c, 1) < 0 && errno == EAGAIN, "timed out read: EAGAIN");
    close(sv[0]);
    close(sv[1]);
    return 0;
}

static void* slow_writer(void* arg) {
    int fd = *(int*)arg;
    usleep(5000);
    if (write(fd, "wait", 4) != 4) return (void*)1;
    usleep(5000);
    if (write(fd, "all!", 4) != 4) return (void*)2;
    return NULL;
}

/* MSG_WAITALL gathers writes that come apart; a blocked reader wakes
   when another thread writes. */
static int waitall(void) {
    int sv[2];
    CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0, "socketpair");
    pthread_t t;
    CHECK(pthread_create(&t, NULL, slow_writer, &sv[0]) == 0, "pthread_create");
    char buf[8];
    CHECK(recv(sv[1], buf, 8, MSG_WAITALL) == 8 && memcmp(buf, "waitall!", 8) == 0, "MSG_WAITALL");
    void* ret;
    pthread_join(t, &ret);
    CHECK(ret == NULL, "writer thread");
    close(sv[0]);
    CHECK(recv(sv[1], buf, 8, MSG_WAITALL) == 0, "MSG_WAITALL at EOF");
    close(sv[1]);
    return 0;
}

static int g_alarm_fd = -1;
static void on_alarm(int sig) {
    (void)sig;
    if (g_alarm_fd >= 0) (void)write(g_alarm_fd, "late", 4);
}

/* A blocking receive ends with EINTR when a handler without SA_RESTART
   runs, and carries on (getting the data the handler sent) with it. The
   alarm repeats until disarmed, so one that fires before the receive
   blocks (a slow machine) is followed by another. */
static int interrupted(void) {
    int sv[2];
    CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0, "socketpair");
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_alarm;
    CHECK(sigaction(SIGALRM, &sa, NULL) == 0, "sigaction");
    struct itimerval it = {{0, 10000}, {0, 10000}}, off = {{0, 0}, {0, 0}};
    CHECK(setitimer(ITIMER_REAL, &it, NULL) == 0, "setitimer");
    char buf[4];
    CHECK(recv(sv[1], buf, sizeof buf, 0) < 0 && errno == EINTR, "a signal ends a blocking recv: EINTR");
    CHECK(setitimer(ITIMER_REAL, &off, NULL) == 0, "disarm");
    sa.sa_flags = SA_RESTART;
    CHECK(sigaction(SIGALRM, &sa, NULL) == 0, "sigaction SA_RESTART");
    g_alarm_fd = sv[0];
    CHECK(setitimer(ITIMER_REAL, &it, NULL) == 0, "setitimer");
    CHECK(recv(sv[1], buf, sizeof buf, MSG_WAITALL) == 4 && memcmp(buf, "late", 4) == 0,
          "SA_RESTART: the recv goes on");
    CHECK(setitimer(ITIMER_REAL, &off, NULL) == 0, "disarm");
    g_alarm_fd = -1;
    signal(SIGALRM, SIG_DFL);
    close(sv[0]);
    close(sv[1]);
    return 0;
}

static int sendfile_to_socket(void) {
    const char* path = "/tmp/kiln-sendfile.txt";
    int f = open(path, O_CREAT | O_TRUNC | O_RDWR, 0644);
    CHECK(f >= 0, "create file");
    CHECK(write(f, "file contents for sendfile", 26) == 26, "fill file");
    int sv[2];
    CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0, "socketpair");
    off_t off = 5;
    CHECK(sendfile(sv[0], f, &off, 100) == 21 && off == 26, "sendfile from offset 5");
    char buf[32];
    CHECK(read(sv[1], buf, sizeof buf) == 21 && memcmp(buf, "contents for sendfile", 21) == 0, "sendfile bytes");
    close(f);
    unlink(path);
    close(sv[0]);
    close(sv[1]);
    return 0;
}

static int options(void) {
    int s = socket(AF_UNIX, SOCK_STREAM, 0);
    int v;
    socklen_t l = sizeof v;
    CHECK(getsockopt(s, SOL_SOCKET, SO_TYPE, &v, &l) == 0 && v == SOCK_STREAM, "SO_TYPE");
    CHECK(getsockopt(s, SOL_SOCKET, SO_DOMAIN, &v, &l) == 0 && v == AF_UNIX, "SO_DOMAIN");
    CHECK(getsockopt(s, SOL_SOCKET, SO_ERROR, &v, &l) == 0 && v == 0, "SO_ERROR");
    v = 1;
    CHECK(setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &v, sizeof v) == 0, "SO_REUSEADDR");
    CHECK(getsockopt(s, SOL_SOCKET, SO_REUSEADDR, &v, &l) == 0 && v == 1, "SO_REUSEADDR back");
    v = 4096;
    CHECK(setsockopt(s, SOL_SOCKET, SO_SNDBUF, &v, sizeof v) == 0, "SO_SNDBUF");
    CHECK(getsockopt(s, SOL_SOCKET, SO_SNDBUF, &v, &l) == 0 && v == 8192, "SO_SNDBUF doubled");
    CHECK(setsockopt(s, SOL_SOCKET, 12345, &v, sizeof v) < 0 && errno == ENOPROTOOPT, "unknown option: ENOPROTOOPT");
    CHECK(setsockopt(s, SOL_SOCKET, SO_KEEPALIVE, &v, 1) < 0 && errno == EINVAL, "short optlen: EINVAL");
    CHECK(setsockopt(s, IPPROTO_TCP, 1, &v, sizeof v) < 0 && errno == EOPNOTSUPP, "TCP level on AF_UNIX: EOPNOTSUPP");
    close(s);
    return 0;
}

static int bad_input(void) {
    struct sockaddr_un a = {0};
    a.sun_family = AF_UNIX;
    CHECK(socket(12345, SOCK_STREAM, 0) < 0 && errno == EAFNOSUPPORT, "bad family: EAFNOSUPPORT");
    CHECK(socket(AF_UNIX, 7, 0) < 0 && errno == ESOCKTNOSUPPORT, "bad type: ESOCKTNOSUPPORT");
    CHECK(socket(AF_UNIX, 0x40, 0) < 0 && errno == EINVAL, "type outside the mask: EINVAL");
    CHECK(socket(AF_UNIX, SOCK_STREAM | 0x100000, 0) < 0 && errno == EINVAL, "bad type flags: EINVAL");
    CHECK(socket(AF_UNIX, SOCK_STREAM, 99) < 0 && errno == EPROTONOSUPPORT, "bad protocol: EPROTONOSUPPORT");
    CHECK(bind(999, (struct sockaddr*)&a, sizeof a) < 0 && errno == EBADF, "bad fd: EBADF");
    int p[2];
    CHECK(pipe(p) == 0, "pipe");
    CHECK(bind(p[0], (struct sockaddr*)&a, sizeof a) < 0 && errno == ENOTSOCK, "not a socket: ENOTSOCK");
    CHECK(recv(p[0], &a, 1, 0) < 0 && errno == ENOTSOCK, "recv on a pipe: ENOTSOCK");
    close(p[0]);
    close(p[1]);
    int s = socket(AF_UNIX, SOCK_STREAM, 0);
    CHECK(bind(s, (struct sockaddr*)&a, 1) < 0 && errno == EINVAL, "addrlen 1: EINVAL");
    CHECK(bind(s, (struct sockaddr*)&a, 4096) < 0 && errno == EINVAL, "addrlen too big: EINVAL");
    CHECK(bind(s, (struct sockaddr*)1, sizeof a) < 0 && errno == EFAULT, "bad pointer: EFAULT");
    a.sun_family = AF_INET;
    CHECK(bind(s, (struct sockaddr*)&a, sizeof a) < 0 && errno == EINVAL, "wrong family on AF_UNIX bind: EINVAL");
    CHECK(send(s, "x", 1, MSG_NOSIGNAL) < 0 && errno == ENOTCONN, "send unconnected: ENOTCONN");
    CHECK(shutdown(s, 7) < 0 && errno == EINVAL, "shutdown bad how: EINVAL");
    struct sockaddr_un peer;
    socklen_t pl = sizeof peer;
    CHECK(getpeername(s, (struct sockaddr*)&peer, &pl) < 0 && errno == ENOTCONN, "getpeername: ENOTCONN");
    pl = -1;
    CHECK(getsockname(s, (struct sockaddr*)&peer, &pl) < 0 && errno == EINVAL, "negative addrlen: EINVAL");
    CHECK(accept(s, NULL, NULL) < 0 && errno == EINVAL, "accept without listen: EINVAL");
    CHECK(socketpair(AF_INET, SOCK_STREAM, 0, p) < 0 && errno == EOPNOTSUPP, "socketpair AF_INET: EOPNOTSUPP");
    close(s);
    return 0;
}

/* Corners where kiln once differed from Linux (found by running the same
   calls on both). */
static int linux_corners(void) {
    const char* path = "/tmp/kiln-net-corners.sock";
    unlink(path);
    struct sockaddr_un a = {0};
    a.sun_family = AF_UNIX;
    strcpy(a.sun_path, path);
    int l = socket(AF_UNIX, SOCK_STREAM, 0);
    CHECK(bind(l, (struct sockaddr*)&a, sizeof a) == 0 && listen(l, 1) == 0, "listener");
    CHECK(bind(l, (struct sockaddr*)&a, sizeof a) < 0 && errno == EADDRINUSE, "binding again to a taken path: EADDRINUSE");
    int d = socket(AF_UNIX, SOCK_DGRAM, 0);
    CHECK(sendto(d, "x", 1, 0, (struct sockaddr*)&a, sizeof a) < 0 && errno == EPROTOTYPE,
          "a datagram to a stream socket: EPROTOTYPE");
    CHECK(shutdown(l, SHUT_RDWR) == 0, "shutdown of a listener");
    int c = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0);
    CHECK(connect(c, (struct sockaddr*)&a, sizeof a) < 0 && errno == ECONNREFUSED,
          "a listener shut for reading refuses: ECONNREFUSED");
    CHECK(shutdown(d, SHUT_WR) == 0, "shutdown of an unconnected datagram socket");
    CHECK(send(d, "x", 1, 0) < 0 && errno == EPIPE, "its send: EPIPE");
    int sv[2];
    CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0, "socketpair");
    char cbuf[CMSG_SPACE(sizeof(int))];
    struct iovec io = {"z", 1};
    struct msghdr m = {0};
    m.msg_iov = &io;
    m.msg_iovlen = 1;
    m.msg_control = cbuf;
    m.msg_controllen = sizeof cbuf;
    struct cmsghdr* h = CMSG_FIRSTHDR(&m);
    h->cmsg_level = SOL_SOCKET;
    h->cmsg_type = 77;
    h->cmsg_len = CMSG_LEN(sizeof(int));
    CHECK(sendmsg(sv[0], &m, 0) < 0 && errno == EINVAL, "an unknown SOL_SOCKET message: EINVAL");
    static char big[300000];
    CHECK(send(d, big, sizeof big, 0) < 0 && (errno == EMSGSIZE || errno == EPIPE), "oversized");
    close(sv[0]);
    close(sv[1]);
    close(c);
    close(d);
    close(l);
    unlink(path);
    return 0;
}

static int sigpipe(void) {
    int sv[2];
    socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
    close(sv[1]);
    ssize_t r = write(sv[0], "x", 1);
    printf("sigpipe: write returned %zd (the process should have died)\n", r);
    return 0;
}

int main(int argc, char** argv) {
    if (argc > 1 && strcmp(argv[1], "sigpipe") == 0) return sigpipe();
    if (stream_pair() || dgram_pair() || path_server() || seqpacket() || abstract_dgram() || rights() || readiness() ||
        waitall() || interrupted() || sendfile_to_socket() || options() || bad_input() || linux_corners())
        return 1;
    printf("net_unix: all ok\n");
    return 0;
}
