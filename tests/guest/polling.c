/* poll, ppoll, select, pselect and epoll over pipes, eventfd, timerfd,
   regular files, the console and epoll fds: ready sets, timeouts (0,
   finite, infinite on something a timer makes ready), POLLNVAL, POLLHUP
   and POLLERR on pipes, epoll level- versus edge-triggered, EPOLLONESHOT,
   epoll_ctl's errors, an epoll fd inside another epoll and inside poll.
   Timings are printed, not checked. Exits non-zero at the first failure. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/select.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "check.h"

static long long now_us(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1000000LL + t.tv_nsec / 1000;
}

static int arm(int tfd, long ms) {
    struct itimerspec its = {{0, 0}, {ms / 1000, (ms % 1000) * 1000000L}};
    return timerfd_settime(tfd, 0, &its, NULL);
}

static int test_poll(void) {
    int p[2];
    CHECK(pipe(p) == 0, "pipe");
    int file = open("/tmp/polling.txt", O_RDWR | O_CREAT | O_TRUNC, 0644);
    CHECK(file >= 0, "open a regular file");
    struct pollfd f[5] = {{p[0], POLLIN, 0},
                          {p[1], POLLOUT, 0},
                          {file, POLLIN | POLLOUT, 0},
                          {1, POLLOUT, 0},
                          {999, POLLIN, 0}};
    CHECK(poll(f, 5, 0) == 4, "four ready (the pipe is empty), one invalid");
    CHECK(f[0].revents == 0, "empty pipe not readable");
    CHECK(f[1].revents == POLLOUT, "pipe writable");
    CHECK(f[2].revents == (POLLIN | POLLOUT), "regular file always ready");
    CHECK(f[3].revents == POLLOUT, "stdout writable");
    CHECK(f[4].revents == POLLNVAL, "bad fd: POLLNVAL");
    struct pollfd neg = {-1, POLLIN, 123};
    CHECK(poll(&neg, 1, 0) == 0 && neg.revents == 0, "negative fd ignored");
    /* a finite timeout that runs out */
    long long t0 = now_us();
    CHECK(poll(f, 1, 20) == 0, "poll times out on an empty pipe");
    long long waited = now_us() - t0;
    CHECK(waited >= 19000, "poll waited its timeout");
    printf("poll: 20 ms timeout took %lld us\n", waited);
    CHECK(write(p[1], "x", 1) == 1, "write");
    CHECK(poll(f, 1, -1) == 1 && f[0].revents == POLLIN, "readable after a write");
    /* POLLHUP with no writers (still POLLIN while data is left) */
    close(p[1]);
    CHECK(poll(f, 1, 0) == 1 && f[0].revents == (POLLIN | POLLHUP),
          "POLLIN|POLLHUP with data, no writer");
    char c;
    CHECK(read(p[0], &c, 1) == 1, "drain");
    CHECK(poll(f, 1, -1) == 1 && f[0].revents == POLLHUP, "POLLHUP alone once drained");
    close(p[0]);
    /* POLLERR for a writer with no readers */
    CHECK(pipe(p) == 0, "pipe");
    close(p[0]);
    struct pollfd w = {p[1], POLLOUT, 0};
    CHECK(poll(&w, 1, 0) == 1 && (w.revents & POLLERR), "POLLERR with no reader");
    close(p[1]);
    /* infinite timeout satisfied by a timer */
    int t = timerfd_create(CLOCK_MONOTONIC, 0);
    CHECK(t >= 0 && arm(t, 15) == 0, "timerfd");
    struct pollfd tf = {t, POLLIN, 0};
    t0 = now_us();
    CHECK(poll(&tf, 1, -1) == 1 && tf.revents == POLLIN, "poll(-1) woken by a timerfd");
    printf("poll: timerfd of 15 ms woke poll(-1) after %lld us\n", now_us() - t0);
    uint64_t n;
    CHECK(read(t, &n, 8) == 8 && n == 1, "one expiration");
    /* ppoll with a timespec */
    CHECK(arm(t, 10) == 0, "re-arm");
    struct timespec ts = {1, 0};
    CHECK(ppoll(&tf, 1, &ts, NULL) == 1 && tf.revents == POLLIN, "ppoll");
    CHECK(read(t, &n, 8) == 8, "read");
    ts.tv_sec = 0;
    ts.tv_nsec = 5000000;
    CHECK(ppoll(&tf, 1, &ts, NULL) == 0, "ppoll times out");
    close(t);
    close(file);
    printf("poll: ok\n");
    return 0;
}

static int test_select(void) {
    int p[2];
    CHECK(pipe(p) == 0, "pipe");
    int e = eventfd(0, 0);
    CHECK(e >= 0, "eventfd");
    fd_set r, w;
    FD_ZERO(&r);
    FD_ZERO(&w);
    FD_SET(p[0], &r);
    FD_SET(e, &r);
    FD_SET(p[1], &w);
    int maxfd = (p[0] > p[1] ? p[0] : p[1]);
    if (e > maxfd) maxfd = e;
    struct timeval tv = {0, 0};
    CHECK(select(maxfd + 1, &r, &w, NULL, &tv) == 1, "select: only the writer is ready");
    CHECK(!FD_ISSET(p[0], &r) && !FD_ISSET(e, &r) && FD_ISSET(p[1], &w), "select ready set");
    uint64_t one = 1;
    CHECK(write(e, &one, 8) == 8, "eventfd write");
    FD_ZERO(&r);
    FD_SET(p[0], &r);
    FD_SET(e, &r);
    tv.tv_sec = 1;
    CHECK(select(maxfd + 1, &r, NULL, NULL, &tv) == 1 && FD_ISSET(e, &r) && !FD_ISSET(p[0], &r),
          "select sees the eventfd");
    /* timeout */
    CHECK(read(e, &one, 8) == 8, "drain eventfd");
    FD_ZERO(&r);
    FD_SET(p[0], &r);
    tv.tv_sec = 0;
    tv.tv_usec = 20000;
    long long t0 = now_us();
    CHECK(select(p[0] + 1, &r, NULL, NULL, &tv) == 0 && !FD_ISSET(p[0], &r), "select times out");
    printf("select: 20 ms timeout took %lld us\n", now_us() - t0);
    /* a bad fd in a set: EBADF */
    int closed = dup(p[0]);
    close(closed);
    FD_ZERO(&r);
    FD_SET(closed, &r);
    tv.tv_usec = 0;
    CHECK(select(closed + 1, &r, NULL, NULL, &tv) == -1 && errno == EBADF,
          "select on a closed fd: EBADF");
    /* pselect */
    CHECK(write(p[1], "y", 1) == 1, "write");
    FD_ZERO(&r);
    FD_SET(p[0], &r);
    struct timespec ts = {1, 0};
    sigset_t none;
    sigemptyset(&none);
    CHECK(pselect(p[0] + 1, &r, NULL, NULL, &ts, &none) == 1 && FD_ISSET(p[0], &r), "pselect");
    close(p[0]);
    close(p[1]);
    close(e);
    printf("select: ok\n");
    return 0;
}

static int test_epoll(void) {
    /* the legacy call nginx and redis use, made directly (musl's
       epoll_create wraps epoll_create1) */
    int ep = (int)syscall(SYS_epoll_create, 100);
    CHECK(ep >= 0, "epoll_create");
    CHECK(syscall(SYS_epoll_create, 0) == -1 && errno == EINVAL, "epoll_create(0): EINVAL");
    int p[2];
    CHECK(pipe2(p, O_NONBLOCK) == 0, "pipe2");
    struct epoll_event ev = {.events = EPOLLIN, .data.u64 = 0x1122334455667788ULL};
    CHECK(epoll_ctl(ep, EPOLL_CTL_ADD, p[0], &ev) == 0, "ADD");
    CHECK(epoll_ctl(ep, EPOLL_CTL_ADD, p[0], &ev) == -1 && errno == EEXIST, "ADD twice: EEXIST");
    CHECK(epoll_ctl(ep, EPOLL_CTL_MOD, p[1], &ev) == -1 && errno == ENOENT,
          "MOD of a stranger: ENOENT");
    CHECK(epoll_ctl(ep, EPOLL_CTL_DEL, p[1], NULL) == -1 && errno == ENOENT,
          "DEL of a stranger: ENOENT");
    CHECK(epoll_ctl(ep, EPOLL_CTL_ADD, 777, &ev) == -1 && errno == EBADF,
          "ADD of a closed fd: EBADF");
    CHECK(epoll_ctl(ep, EPOLL_CTL_ADD, ep, &ev) == -1 && errno == EINVAL, "ADD itself: EINVAL");
    CHECK(epoll_ctl(p[0], EPOLL_CTL_ADD, p[1], &ev) == -1 && errno == EINVAL,
          "not an epoll fd: EINVAL");
    int file = open("/tmp/polling.txt", O_RDWR | O_CREAT, 0644);
    CHECK(epoll_ctl(ep, EPOLL_CTL_ADD, file, &ev) == -1 && errno == EPERM, "regular file: EPERM");
    close(file);

    struct epoll_event out[8];
    CHECK(epoll_wait(ep, out, 8, 0) == 0, "nothing ready");
    long long t0 = now_us();
    CHECK(epoll_wait(ep, out, 8, 20) == 0, "epoll_wait times out");
    printf("epoll: 20 ms timeout took %lld us\n", now_us() - t0);
    CHECK(epoll_wait(ep, out, 0, 0) == -1 && errno == EINVAL, "maxevents 0: EINVAL");

    /* level-triggered: reported on every call while data is there */
    CHECK(write(p[1], "ab", 2) == 2, "write");
    CHECK(epoll_wait(ep, out, 8, 0) == 1 && out[0].events == EPOLLIN &&
              out[0].data.u64 == 0x1122334455667788ULL,
          "LT ready, data echoed");
    CHECK(epoll_wait(ep, out, 8, 0) == 1, "LT reported again");
    char buf[8];
    CHECK(read(p[0], buf, 8) == 2, "drain");
    CHECK(epoll_wait(ep, out, 8, 0) == 0, "LT quiet once drained");

    /* edge-triggered: once per change until drained */
    ev.events = EPOLLIN | EPOLLET;
    ev.data.u32 = 7;
    CHECK(epoll_ctl(ep, EPOLL_CTL_MOD, p[0], &ev) == 0, "MOD to ET");
    CHECK(write(p[1], "a", 1) == 1, "write");
    CHECK(epoll_wait(ep, out, 8, 0) == 1 && out[0].data.u32 == 7, "ET reported");
    CHECK(epoll_wait(ep, out, 8, 0) == 0, "ET not reported twice");
    CHECK(write(p[1], "b", 1) == 1, "write more");
    CHECK(epoll_wait(ep, out, 8, 0) == 1, "ET reported after new data");
    CHECK(read(p[0], buf, 8) == 2, "drain");
    CHECK(epoll_wait(ep, out, 8, 0) == 0, "ET quiet after drain");

    /* oneshot: one report, then nothing until MOD re-arms it */
    ev.events = EPOLLIN | EPOLLONESHOT;
    CHECK(epoll_ctl(ep, EPOLL_CTL_MOD, p[0], &ev) == 0, "MOD to ONESHOT");
    CHECK(write(p[1], "c", 1) == 1, "write");
    CHECK(epoll_wait(ep, out, 8, 0) == 1, "ONESHOT fires");
    CHECK(write(p[1], "d", 1) == 1, "write");
    CHECK(epoll_wait(ep, out, 8, 0) == 0, "ONESHOT disabled");
    CHECK(epoll_ctl(ep, EPOLL_CTL_MOD, p[0], &ev) == 0, "re-arm");
    CHECK(epoll_wait(ep, out, 8, 0) == 1, "re-armed ONESHOT fires at once (data waiting)");
    CHECK(read(p[0], buf, 8) == 2, "drain");

    /* writer side: EPOLLOUT, then EPOLLERR once the reader is gone */
    int q[2];
    CHECK(pipe(q) == 0, "pipe");
    struct epoll_event wev = {.events = EPOLLOUT, .data.u32 = 9};
    CHECK(epoll_ctl(ep, EPOLL_CTL_ADD, q[1], &wev) == 0, "ADD writer");
    CHECK(epoll_wait(ep, out, 8, 0) == 1 && out[0].events == EPOLLOUT && out[0].data.u32 == 9,
          "writer EPOLLOUT");
    close(q[0]);
    CHECK(epoll_wait(ep, out, 8, 0) == 1 && (out[0].events & EPOLLERR),
          "writer EPOLLERR, no reader");
    CHECK(epoll_ctl(ep, EPOLL_CTL_DEL, q[1], NULL) == 0, "DEL");
    close(q[1]);

    /* HUP when the writer closes: reported even though not asked for */
    ev.events = EPOLLIN | EPOLLRDHUP;
    ev.data.u32 = 1;
    CHECK(epoll_ctl(ep, EPOLL_CTL_MOD, p[0], &ev) == 0, "MOD with RDHUP");
    close(p[1]);
    int n = epoll_wait(ep, out, 8, -1);
    CHECK(n == 1 && (out[0].events & EPOLLHUP), "EPOLLHUP when the writer closed");
    printf("epoll: events with the writer closed: 0x%x\n", out[0].events);

    /* closing the last descriptor drops the item */
    close(p[0]);
    CHECK(epoll_wait(ep, out, 8, 0) == 0, "closed fd's item is gone");

    /* nested: a timerfd in an inner epoll, the inner in an outer epoll and in poll */
    int inner = epoll_create1(EPOLL_CLOEXEC);
    CHECK(inner >= 0 && (fcntl(inner, F_GETFD) & FD_CLOEXEC), "epoll_create1(EPOLL_CLOEXEC)");
    CHECK(epoll_create1(12345) == -1 && errno == EINVAL, "epoll_create1 bad flags");
    int t = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK);
    struct epoll_event tev = {.events = EPOLLIN, .data.u32 = 42};
    CHECK(epoll_ctl(inner, EPOLL_CTL_ADD, t, &tev) == 0, "timerfd into inner");
    struct epoll_event iev = {.events = EPOLLIN, .data.u32 = 43};
    CHECK(epoll_ctl(ep, EPOLL_CTL_ADD, inner, &iev) == 0, "inner into outer");
    CHECK(epoll_ctl(inner, EPOLL_CTL_ADD, ep, &iev) == -1 && errno == ELOOP, "a cycle: ELOOP");
    CHECK(arm(t, 15) == 0, "arm");
    t0 = now_us();
    CHECK(epoll_wait(ep, out, 8, -1) == 1 && out[0].data.u32 == 43,
          "outer epoll woken through inner");
    printf("epoll: timerfd of 15 ms woke nested epoll_wait(-1) after %lld us\n", now_us() - t0);
    struct pollfd pf = {inner, POLLIN, 0};
    CHECK(poll(&pf, 1, 0) == 1 && pf.revents == POLLIN, "inner epoll fd is pollable");
    CHECK(epoll_wait(inner, out, 8, 0) == 1 && out[0].data.u32 == 42, "inner reports the timerfd");
    uint64_t x;
    CHECK(read(t, &x, 8) == 8, "read the timerfd");
    CHECK(poll(&pf, 1, 0) == 0, "inner quiet after the read");
    CHECK(epoll_wait(ep, out, 8, 0) == 0, "outer quiet too");

    /* epoll_pwait and an eventfd */
    int e = eventfd(0, EFD_NONBLOCK);
    struct epoll_event eev = {.events = EPOLLIN | EPOLLET, .data.u32 = 5};
    CHECK(epoll_ctl(ep, EPOLL_CTL_ADD, e, &eev) == 0, "eventfd ADD");
    uint64_t one = 1;
    CHECK(write(e, &one, 8) == 8, "eventfd write");
    sigset_t none;
    sigemptyset(&none);
    CHECK(epoll_pwait(ep, out, 8, 100, &none) == 1 && out[0].data.u32 == 5, "epoll_pwait");
    close(e);
    close(t);
    close(inner);
    close(ep);
    printf("epoll: ok\n");
    return 0;
}

static volatile int alarms;
static void on_alarm(int sig) {
    (void)sig;
    alarms++;
}

static int restart_fd = -1;
static void on_alarm_write(int sig) {
    (void)sig;
    alarms++;
    if (write(restart_fd, "!", 1) != 1) _exit(9);
}

static void alarm_in_ms(int ms) {
    struct itimerval it = {{0, 0}, {0, ms * 1000}};
    setitimer(ITIMER_REAL, &it, NULL);
}

/* A signal ends a blocking wait with EINTR after its handler ran (no
   SA_RESTART; poll and epoll_wait never restart anyway); ppoll and
   epoll_pwait wait under their own mask and put the old one back. */
static int test_eintr(void) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_alarm;
    CHECK(sigaction(SIGALRM, &sa, NULL) == 0, "sigaction");
    int p[2];
    CHECK(pipe(p) == 0, "pipe");
    struct pollfd f = {p[0], POLLIN, 0};
    alarm_in_ms(20);
    long long t0 = now_us();
    CHECK(poll(&f, 1, -1) == -1 && errno == EINTR && alarms == 1,
          "poll(-1) interrupted by SIGALRM");
    printf("eintr: poll interrupted after %lld us\n", now_us() - t0);
    int ep = epoll_create1(0);
    struct epoll_event ev = {.events = EPOLLIN, .data.u32 = 1}, out[4];
    CHECK(epoll_ctl(ep, EPOLL_CTL_ADD, p[0], &ev) == 0, "epoll_ctl");
    alarm_in_ms(20);
    CHECK(epoll_wait(ep, out, 4, -1) == -1 && errno == EINTR && alarms == 2,
          "epoll_wait(-1) interrupted");
    alarm_in_ms(20);
    char c;
    CHECK(read(p[0], &c, 1) == -1 && errno == EINTR && alarms == 3,
          "blocking pipe read interrupted");
    fd_set r;
    FD_ZERO(&r);
    FD_SET(p[0], &r);
    alarm_in_ms(20);
    CHECK(select(p[0] + 1, &r, NULL, NULL, NULL) == -1 && errno == EINTR && alarms == 4,
          "select interrupted");

    /* SIGALRM blocked; ppoll unblocks it for the wait only */
    sigset_t block, none, now;
    sigemptyset(&block);
    sigaddset(&block, SIGALRM);
    sigemptyset(&none);
    CHECK(sigprocmask(SIG_BLOCK, &block, NULL) == 0, "block SIGALRM");
    alarm_in_ms(20);
    struct timespec ts = {1, 0};
    CHECK(ppoll(&f, 1, &ts, &none) == -1 && errno == EINTR && alarms == 5,
          "ppoll's mask lets SIGALRM in");
    CHECK(sigprocmask(SIG_BLOCK, NULL, &now) == 0 && sigismember(&now, SIGALRM),
          "old mask back after ppoll");
    /* with the mask kept, the signal waits until it is unblocked */
    alarm_in_ms(10);
    CHECK(epoll_pwait(ep, out, 4, 50, &block) == 0 && alarms == 5,
          "epoll_pwait with SIGALRM blocked times out");
    CHECK(sigprocmask(SIG_UNBLOCK, &block, NULL) == 0 && alarms == 6,
          "pending SIGALRM runs once unblocked");

    /* SA_RESTART: a blocking read is restarted after the handler (which
       writes the byte the restarted read then gets); poll is not. */
    CHECK(sigprocmask(SIG_SETMASK, &none, NULL) == 0, "unblock all");
    restart_fd = p[1];
    sa.sa_handler = on_alarm_write;
    sa.sa_flags = SA_RESTART;
    CHECK(sigaction(SIGALRM, &sa, NULL) == 0, "sigaction SA_RESTART");
    alarm_in_ms(20);
    CHECK(read(p[0], &c, 1) == 1 && c == '!' && alarms == 7, "SA_RESTART restarts a blocking read");
    alarm_in_ms(20);
    CHECK(poll(&f, 1, -1) == -1 && errno == EINTR && alarms == 8,
          "poll is not restarted, SA_RESTART or not");
    CHECK(read(p[0], &c, 1) == 1, "the handler's byte");
    close(ep);
    close(p[0]);
    close(p[1]);
    printf("eintr: ok\n");
    return 0;
}

static void on_term(int sig) {
    (void)sig;
}

/* "host-signal": epoll_pwait with no timeout on a pipe nothing will write
   to; only SIGTERM from the host (sent by the test once "waiting" is out)
   ends it, with EINTR after the handler. SIGTERM stays blocked outside
   the wait, so one that comes early is not lost before it. */
static int wait_for_host_signal(void) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_term;
    CHECK(sigaction(SIGTERM, &sa, NULL) == 0, "sigaction");
    sigset_t term, none;
    sigemptyset(&term);
    sigaddset(&term, SIGTERM);
    sigemptyset(&none);
    CHECK(sigprocmask(SIG_BLOCK, &term, NULL) == 0, "block SIGTERM");
    int p[2];
    CHECK(pipe(p) == 0, "pipe");
    int ep = epoll_create1(0);
    struct epoll_event ev = {.events = EPOLLIN, .data.u32 = 1}, out;
    CHECK(epoll_ctl(ep, EPOLL_CTL_ADD, p[0], &ev) == 0, "epoll_ctl");
    printf("waiting\n");
    fflush(stdout);
    int r = epoll_pwait(ep, &out, 1, -1, &none);
    printf("epoll_pwait: %d %s\n", r, r < 0 ? strerror(errno) : "-");
    return 0;
}

int main(int argc, char** argv) {
    if (argc > 1 && strcmp(argv[1], "host-signal") == 0) return wait_for_host_signal();
    if (test_poll() || test_select() || test_epoll() || test_eintr()) return 1;
    printf("polling: all ok\n");
    return 0;
}
