/* Pipes, eventfd and timerfd: round trips, end of file, EPIPE with SIGPIPE
   ignored, non-blocking EAGAIN, partial reads and writes, PIPE_BUF, fstat,
   fcntl, FIONREAD, dup; eventfd counter and semaphore modes and their
   errors; timerfd expirations counted across sleeps. Timings are printed,
   not checked. Exits non-zero at the first failure. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/timerfd.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "check.h"

static long long now_ns(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1000000000LL + t.tv_nsec;
}

static char big[70000];

static int pipes(void) {
    int p[2];
    CHECK(pipe(p) == 0, "pipe");
    struct stat st;
    CHECK(fstat(p[0], &st) == 0 && S_ISFIFO(st.st_mode), "fstat of a pipe is S_IFIFO");
    CHECK(lseek(p[0], 0, SEEK_CUR) == -1 && errno == ESPIPE, "lseek on a pipe: ESPIPE");
    struct stat st2;
    CHECK(fstat(p[1], &st2) == 0 && st2.st_ino == st.st_ino, "both ends are one inode");
    char path[64], link[64], expect[64];
    snprintf(path, sizeof path, "/proc/self/fd/%d", p[0]);
    ssize_t ln = readlink(path, link, sizeof link - 1);
    CHECK(ln > 0, "readlink /proc/self/fd of a pipe");
    link[ln] = 0;
    snprintf(expect, sizeof expect, "pipe:[%lu]", (unsigned long)st.st_ino);
    CHECK(strcmp(link, expect) == 0, "/proc/self/fd names the pipe");
    CHECK(write(p[1], "hello", 5) == 5, "write 5");
    int avail = -1;
    CHECK(ioctl(p[0], FIONREAD, &avail) == 0 && avail == 5, "FIONREAD counts 5");
    char buf[16];
    CHECK(read(p[0], buf, 3) == 3 && memcmp(buf, "hel", 3) == 0, "partial read of 3");
    CHECK(read(p[0], buf, sizeof buf) == 2 && memcmp(buf, "lo", 2) == 0, "rest of it");
    /* vectors, and dup: the copy writes into the same pipe */
    int w2 = dup(p[1]);
    CHECK(w2 >= 0, "dup");
    struct iovec iov[2] = {{"ab", 2}, {"cd", 2}};
    CHECK(writev(w2, iov, 2) == 4, "writev");
    char x[2], y[2];
    struct iovec riov[2] = {{x, 2}, {y, 2}};
    CHECK(readv(p[0], riov, 2) == 4 && memcmp(x, "ab", 2) == 0 && memcmp(y, "cd", 2) == 0, "readv");
    /* non-blocking: F_SETFL, then EAGAIN on an empty pipe */
    int fl = fcntl(p[0], F_GETFL);
    CHECK(fl >= 0 && !(fl & O_NONBLOCK), "F_GETFL");
    CHECK(fcntl(p[0], F_SETFL, fl | O_NONBLOCK) == 0, "F_SETFL O_NONBLOCK");
    CHECK((fcntl(p[0], F_GETFL) & O_NONBLOCK) != 0, "O_NONBLOCK sticks");
    CHECK(read(p[0], buf, sizeof buf) == -1 && errno == EAGAIN, "empty non-blocking read: EAGAIN");
    /* end of file only once every writer is closed */
    CHECK(close(p[1]) == 0, "close a writer");
    CHECK(read(p[0], buf, sizeof buf) == -1 && errno == EAGAIN,
          "another writer open: still EAGAIN");
    CHECK(close(w2) == 0, "close the last writer");
    CHECK(read(p[0], buf, sizeof buf) == 0, "no writers: end of file");
    close(p[0]);

    /* pipe2 flags, a full pipe, PIPE_BUF atomicity, partial writes */
    CHECK(pipe2(p, O_NONBLOCK | O_CLOEXEC) == 0, "pipe2");
    CHECK((fcntl(p[0], F_GETFD) & FD_CLOEXEC) && (fcntl(p[1], F_GETFL) & O_NONBLOCK),
          "pipe2 flags");
    CHECK(fcntl(p[1], F_GETFL) & O_WRONLY, "write end is O_WRONLY");
    CHECK(fcntl(p[0], F_GETPIPE_SZ) == 65536, "F_GETPIPE_SZ: 64 KiB");
    CHECK(fcntl(p[1], F_SETPIPE_SZ, 65536) == 65536, "F_SETPIPE_SZ to the size it has");
    memset(big, 'z', sizeof big);
    ssize_t n = write(p[1], big, sizeof big);
    CHECK(n == 65536, "a 70000-byte write into an empty 64 KiB pipe writes 65536");
    CHECK(write(p[1], big, 1) == -1 && errno == EAGAIN, "full pipe: EAGAIN");
    CHECK(read(p[0], big, 100) == 100, "make 100 bytes of room");
    CHECK(write(p[1], big, PIPE_BUF) == -1 && errno == EAGAIN, "PIPE_BUF write is all or nothing");
    CHECK(read(p[0], big, 2 * PIPE_BUF) == 2 * PIPE_BUF, "make two pages of room");
    ssize_t part = write(p[1], big, 3 * PIPE_BUF);
    CHECK(part >= 2 * PIPE_BUF && part < 3 * PIPE_BUF, "a large write is partial");
    long total = 0;
    while ((n = read(p[0], big, sizeof big)) > 0) total += n;
    CHECK(n == -1 && errno == EAGAIN && total == 65536 - 100 - 2 * PIPE_BUF + part,
          "drained everything written");
    /* EPIPE once every reader is gone (SIGPIPE ignored) */
    signal(SIGPIPE, SIG_IGN);
    close(p[0]);
    CHECK(write(p[1], "x", 1) == -1 && errno == EPIPE, "no readers: EPIPE");
    close(p[1]);

    /* blocking reads of data already there, in a loop of round trips */
    CHECK(pipe(p) == 0, "pipe again");
    long long t0 = now_ns();
    for (int i = 0; i < 10000; i++) {
        int v = i, r = -1;
        if (write(p[1], &v, sizeof v) != sizeof v || read(p[0], &r, sizeof r) != sizeof r ||
            r != i) {
            printf("FAIL: round trip %d\n", i);
            return 1;
        }
    }
    long long t1 = now_ns();
    close(p[0]);
    close(p[1]);
    printf("pipes: ok (10000 round trips, %lld ns each)\n", (t1 - t0) / 10000);
    return 0;
}

static int eventfds(void) {
    int e = eventfd(3, EFD_NONBLOCK | EFD_CLOEXEC);
    CHECK(e >= 0, "eventfd");
    CHECK(fcntl(e, F_GETFD) & FD_CLOEXEC, "EFD_CLOEXEC");
    uint64_t v = 0;
    char small[4];
    CHECK(read(e, small, 4) == -1 && errno == EINVAL, "4-byte read: EINVAL");
    CHECK(read(e, &v, 8) == 8 && v == 3, "read takes the counter (3)");
    CHECK(read(e, &v, 8) == -1 && errno == EAGAIN, "zero: EAGAIN");
    v = 5;
    CHECK(write(e, &v, 8) == 8, "write 5");
    v = 7;
    CHECK(write(e, &v, 8) == 8, "write 7");
    CHECK(read(e, &v, 8) == 8 && v == 12, "writes add up (12)");
    v = UINT64_MAX;
    CHECK(write(e, &v, 8) == -1 && errno == EINVAL, "writing 2^64-1: EINVAL");
    CHECK(write(e, &v, 4) == -1 && errno == EINVAL, "4-byte write: EINVAL");
    v = UINT64_MAX - 1;
    CHECK(write(e, &v, 8) == 8, "write the maximum");
    v = 1;
    CHECK(write(e, &v, 8) == -1 && errno == EAGAIN, "overflow: EAGAIN");
    CHECK(read(e, &v, 8) == 8 && v == UINT64_MAX - 1, "read the maximum");
    close(e);

    int s = eventfd(2, EFD_SEMAPHORE | EFD_NONBLOCK);
    CHECK(s >= 0, "eventfd semaphore");
    CHECK(read(s, &v, 8) == 8 && v == 1, "semaphore read gives 1");
    CHECK(read(s, &v, 8) == 8 && v == 1, "and 1 again");
    CHECK(read(s, &v, 8) == -1 && errno == EAGAIN, "then EAGAIN");
    close(s);
    CHECK(eventfd(0, 0x12345) == -1 && errno == EINVAL, "bad flags: EINVAL");
    printf("eventfd: ok\n");
    return 0;
}

static int timerfds(void) {
    int t = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
    CHECK(t >= 0, "timerfd_create");
    uint64_t n = 0;
    CHECK(read(t, &n, 8) == -1 && errno == EAGAIN, "disarmed: EAGAIN");
    struct itimerspec its = {{0, 10 * 1000 * 1000}, {0, 10 * 1000 * 1000}}; /* 10 ms, every 10 ms */
    CHECK(timerfd_settime(t, 0, &its, NULL) == 0, "timerfd_settime");
    struct itimerspec cur;
    CHECK(timerfd_gettime(t, &cur) == 0 && cur.it_interval.tv_nsec == 10 * 1000 * 1000 &&
              (cur.it_value.tv_sec > 0 || cur.it_value.tv_nsec > 0),
          "timerfd_gettime while armed");
    long long t0 = now_ns();
    struct timespec nap = {0, 55 * 1000 * 1000};
    nanosleep(&nap, NULL);
    CHECK(read(t, &n, 8) == 8 && n >= 5, "at least 5 expirations in 55 ms");
    long long slept = now_ns() - t0;
    printf("timerfd: %llu expirations of 10 ms in %lld us\n", (unsigned long long)n, slept / 1000);
    CHECK(read(t, &n, 8) == -1 && errno == EAGAIN, "count resets on read");
    /* blocking read waits for the next expiration */
    int fl = fcntl(t, F_GETFL);
    CHECK(fcntl(t, F_SETFL, fl & ~O_NONBLOCK) == 0, "blocking timerfd");
    t0 = now_ns();
    CHECK(read(t, &n, 8) == 8 && n >= 1, "blocking read returns an expiration");
    printf("timerfd: blocking read waited %lld us\n", (now_ns() - t0) / 1000);
    /* disarm */
    struct itimerspec zero = {{0, 0}, {0, 0}}, old;
    CHECK(timerfd_settime(t, 0, &zero, &old) == 0 && old.it_interval.tv_nsec == 10 * 1000 * 1000,
          "disarm returns old");
    CHECK(timerfd_gettime(t, &cur) == 0 && cur.it_value.tv_sec == 0 && cur.it_value.tv_nsec == 0,
          "disarmed gettime");
    /* absolute one-shot on CLOCK_REALTIME */
    int r = timerfd_create(CLOCK_REALTIME, 0);
    CHECK(r >= 0, "realtime timerfd");
    struct timespec wall;
    clock_gettime(CLOCK_REALTIME, &wall);
    wall.tv_nsec += 20 * 1000 * 1000;
    if (wall.tv_nsec >= 1000000000) wall.tv_sec++, wall.tv_nsec -= 1000000000;
    struct itimerspec abs = {{0, 0}, wall};
    CHECK(timerfd_settime(r, TFD_TIMER_ABSTIME, &abs, NULL) == 0, "absolute settime");
    CHECK(read(r, &n, 8) == 8 && n == 1, "one absolute expiration");
    struct timespec after;
    clock_gettime(CLOCK_REALTIME, &after);
    CHECK(after.tv_sec > wall.tv_sec ||
              (after.tv_sec == wall.tv_sec && after.tv_nsec >= wall.tv_nsec - 1000000),
          "not before its time");
    CHECK(timerfd_create(12345, 0) == -1 && errno == EINVAL, "bad clock: EINVAL");
    close(r);
    close(t);
    printf("timerfd: ok\n");
    return 0;
}

/* kiln-only behaviour, chosen by argv[1]: a blocking read that nothing can
   satisfy (one thread, no timer) answers EDEADLK instead of hanging; a write
   without readers under the default SIGPIPE disposition ends the process. */
static int special(const char* what) {
    int p[2];
    CHECK(pipe(p) == 0, "pipe");
    if (strcmp(what, "deadlock-blocked-alarm") == 0) {
        /* the one timer that could end the wait sends a blocked signal */
        sigset_t alrm;
        sigemptyset(&alrm);
        sigaddset(&alrm, SIGALRM);
        sigprocmask(SIG_BLOCK, &alrm, NULL);
        struct itimerval it = {{0, 0}, {0, 10000}};
        setitimer(ITIMER_REAL, &it, NULL);
    }
    if (strncmp(what, "deadlock", 8) == 0) {
        char c;
        ssize_t r = read(p[0], &c, 1);
        printf("deadlock: read=%zd errno=%s\n", r, r < 0 ? strerror(errno) : "-");
        return 0;
    }
    close(p[0]);
    ssize_t r = write(p[1], "x", 1);
    printf("sigpipe: write returned %zd (the process should have died)\n", r);
    return 0;
}

int main(int argc, char** argv) {
    if (argc > 1) return special(argv[1]);
    if (pipes() || eventfds() || timerfds()) return 1;
    printf("pipes: all ok\n");
    return 0;
}
