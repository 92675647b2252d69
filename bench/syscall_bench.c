// syscall-bench: the guest side of bench/syscall and bench/sched. Times
// seven system-call workloads (or, with --sched, four two-thread scheduling
// workloads) from inside one process and prints one line per benchmark,
//   NAME VALUE UNIT        e.g.  "getpid 812.4 ns/op", "write_256m 1534.2 MB/s"
// so that the same binary can run natively and under `kiln run` and the
// driver (syscall_bench_driver.cpp) can put the two side by side.
//
// Plain C with libc and pthreads only, so it builds with musl-gcc -static, gcc -static
// and a dynamic glibc link alike. Exit status 0 when every benchmark ran;
// a failing call prints "NAME FAILED: call: error" and gives exit 1.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/syscall.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

enum {
    kGetpidIters = 200000,
    kClockIters = 1000000,
    kOpenReadIters = 20000,
    kSmallFile = 4096,
    kChunk = 1 << 20,      // one write() call
    kWriteTotalMiB = 256,  // the sequential write's size
    kPipeIters = 100000,
    kEpollIters = 100000,
    kTimerTicks = 200,  // 1 ms apart
    kFutexIters = 100000,
    kThreadIters = 2000,
    kPingIters = 50000,
    kWakeIters = 50000,
};

static int g_failed;

static long long now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void failed(const char* name, const char* call) {
    printf("%s FAILED: %s: %s\n", name, call, strerror(errno));
    fflush(stdout);
    g_failed = 1;
}

static void report(const char* name, double value, const char* unit) {
    printf("%s %.1f %s\n", name, value, unit);
    fflush(stdout);  // a later benchmark that crashes must not take this line with it
}

// The raw syscall: no libc may answer getpid from a cache.
static void bench_getpid(void) {
    long sum = 0;
    for (int i = 0; i < 1000; i++) sum += syscall(SYS_getpid);  // warm-up
    long long t0 = now_ns();
    for (int i = 0; i < kGetpidIters; i++) sum += syscall(SYS_getpid);
    long long t1 = now_ns();
    if (sum <= 0) {
        errno = EINVAL;
        failed("getpid", "syscall(SYS_getpid)");
        return;
    }
    report("getpid", (double)(t1 - t0) / kGetpidIters, "ns/op");
}

// clock_gettime through libc, which takes the vDSO when the kernel maps one
// (the native kernel does, and so does kiln's). The loop's own cost is in it.
static void bench_clock(void) {
    struct timespec ts;
    long long check = 0;
    for (int i = 0; i < 1000; i++) clock_gettime(CLOCK_MONOTONIC, &ts);
    long long t0 = now_ns();
    for (int i = 0; i < kClockIters; i++) {
        clock_gettime(CLOCK_MONOTONIC, &ts);
        check += ts.tv_nsec & 1;
    }
    long long t1 = now_ns();
    if (check < 0) return;  // keeps the loop's results alive
    report("clock_gettime", (double)(t1 - t0) / kClockIters, "ns/op");
}

// open + read 4 KiB + close of one file written first.
static void bench_open_read(const char* dir) {
    char path[512];
    snprintf(path, sizeof path, "%s/syscall-bench-4k.%ld", dir, (long)getpid());
    static char buf[kSmallFile];
    memset(buf, 'k', sizeof buf);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0) {
        failed("open_read_close", "open(O_CREAT)");
        return;
    }
    if (write(fd, buf, sizeof buf) != (ssize_t)sizeof buf) {
        close(fd);
        unlink(path);
        failed("open_read_close", "write");
        return;
    }
    close(fd);
    long long t0 = 0;
    for (int i = -100; i < kOpenReadIters; i++) {  // the first 100 are a warm-up
        if (i == 0) t0 = now_ns();
        fd = open(path, O_RDONLY);
        if (fd < 0) break;
        ssize_t n = read(fd, buf, sizeof buf);
        close(fd);
        if (n != kSmallFile) {
            if (n >= 0) errno = EIO;  // a short read
            fd = -1;
            break;
        }
    }
    long long t1 = now_ns();
    unlink(path);
    if (fd < 0) {
        failed("open_read_close", "open/read");
        return;
    }
    report("open_read_close", (double)(t1 - t0) / kOpenReadIters, "ns/op");
}

// 256 MiB in 1 MiB write() calls, then fsync and close: all timed. The
// unlink after it is not (in kiln it frees guest memory; natively, blocks).
static void bench_write(const char* dir) {
    char path[512];
    snprintf(path, sizeof path, "%s/syscall-bench-256m.%ld", dir, (long)getpid());
    char* chunk = malloc(kChunk);
    if (!chunk) {
        failed("write_256m", "malloc");
        return;
    }
    memset(chunk, 'w', kChunk);  // touched before timing, so no page faults in it
    long long t0 = now_ns();
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0) {
        free(chunk);
        failed("write_256m", "open(O_CREAT)");
        return;
    }
    const char* bad = NULL;
    for (int i = 0; i < kWriteTotalMiB && !bad; i++) {
        size_t done = 0;
        while (done < kChunk) {  // write() may be short; finish the chunk
            ssize_t n = write(fd, chunk + done, kChunk - done);
            if (n <= 0) {
                if (n == 0) errno = ENOSPC;
                bad = "write";
                break;
            }
            done += (size_t)n;
        }
    }
    if (!bad && fsync(fd) != 0) bad = "fsync";
    if (close(fd) != 0 && !bad) bad = "close";
    long long t1 = now_ns();
    int saved = errno;
    unlink(path);
    free(chunk);
    errno = saved;
    if (bad) {
        failed("write_256m", bad);
        return;
    }
    double mb = (double)kWriteTotalMiB * kChunk / 1e6;
    report("write_256m", mb / ((double)(t1 - t0) / 1e9), "MB/s");
}

// One byte through a pipe and back out: write + read on the same pipe.
static void bench_pipe(void) {
    int p[2];
    if (pipe(p) != 0) {
        failed("pipe_round_trip", "pipe");
        return;
    }
    char c = 'x';
    long long t0 = 0;
    int ok = 1;
    for (int i = -1000; i < kPipeIters && ok; i++) {
        if (i == 0) t0 = now_ns();
        ok = write(p[1], &c, 1) == 1 && read(p[0], &c, 1) == 1;
    }
    long long t1 = now_ns();
    close(p[0]);
    close(p[1]);
    if (!ok) {
        failed("pipe_round_trip", "write/read");
        return;
    }
    report("pipe_round_trip", (double)(t1 - t0) / kPipeIters, "ns/op");
}

// Readiness through epoll: an eventfd write makes it ready, epoll_wait
// reports it, a read consumes it.
static void bench_epoll(void) {
    int ep = epoll_create1(0);
    int e = eventfd(0, EFD_NONBLOCK);
    struct epoll_event ev = {.events = EPOLLIN, .data.u32 = 1}, out;
    if (ep < 0 || e < 0 || epoll_ctl(ep, EPOLL_CTL_ADD, e, &ev) != 0) {
        failed("eventfd_epoll_wait", "epoll_create1/eventfd/epoll_ctl");
        return;
    }
    uint64_t one = 1, v;
    long long t0 = 0;
    int ok = 1;
    for (int i = -1000; i < kEpollIters && ok; i++) {
        if (i == 0) t0 = now_ns();
        ok = write(e, &one, 8) == 8 && epoll_wait(ep, &out, 1, -1) == 1 && read(e, &v, 8) == 8;
    }
    long long t1 = now_ns();
    close(e);
    close(ep);
    if (!ok) {
        failed("eventfd_epoll_wait", "write/epoll_wait/read");
        return;
    }
    report("eventfd_epoll_wait", (double)(t1 - t0) / kEpollIters, "ns/op");
}

// How late epoll_wait returns after a 1 ms periodic timerfd expires: the
// idle wake-up path (halt, timer interrupt, back to the program).
static void bench_timer_wakeup(void) {
    int ep = epoll_create1(0);
    int t = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK);
    struct epoll_event ev = {.events = EPOLLIN, .data.u32 = 1}, out;
    if (ep < 0 || t < 0 || epoll_ctl(ep, EPOLL_CTL_ADD, t, &ev) != 0) {
        failed("timerfd_wakeup_late", "epoll_create1/timerfd_create/epoll_ctl");
        return;
    }
    struct timespec start;
    clock_gettime(CLOCK_MONOTONIC, &start);
    long long first = (long long)start.tv_sec * 1000000000LL + start.tv_nsec + 1000000;
    struct itimerspec its = {{0, 1000000}, {first / 1000000000LL, first % 1000000000LL}};
    if (timerfd_settime(t, TFD_TIMER_ABSTIME, &its, NULL) != 0) {
        failed("timerfd_wakeup_late", "timerfd_settime");
        return;
    }
    long long late = 0;
    uint64_t seen = 0, n;
    while (seen < kTimerTicks) {
        if (epoll_wait(ep, &out, 1, -1) != 1 || read(t, &n, 8) != 8) {
            failed("timerfd_wakeup_late", "epoll_wait/read");
            return;
        }
        seen += n;
        late += now_ns() - (first + (long long)(seen - 1) * 1000000);
    }
    close(t);
    close(ep);
    report("timerfd_wakeup_late", (double)late / kTimerTicks, "ns/op");
}

// ---- bench/sched (--sched): two threads handing control back and forth ----

// From <linux/futex.h>, which musl-gcc's include path does not have.
#define FUTEX_WAIT_PRIVATE 128
#define FUTEX_WAKE_PRIVATE 129

static long futex(atomic_int* word, int op, int val) {
    return syscall(SYS_futex, word, op, val, NULL, NULL, 0);
}

// Futex ping-pong: the word is 0 when it is main's turn, 1 when the partner's.
// Each side flips it, wakes the other and sleeps in FUTEX_WAIT until flipped back.
static atomic_int g_turn;
static int g_rounds;

static void* futex_partner(void* arg) {
    (void)arg;
    for (int i = 0; i < g_rounds; i++) {
        while (atomic_load(&g_turn) != 1) futex(&g_turn, FUTEX_WAIT_PRIVATE, 0);
        atomic_store(&g_turn, 0);
        futex(&g_turn, FUTEX_WAKE_PRIVATE, 1);
    }
    return NULL;
}

static void bench_futex_pingpong(void) {
    pthread_t t;
    g_rounds = kFutexIters + 1000;
    atomic_store(&g_turn, 0);
    if ((errno = pthread_create(&t, NULL, futex_partner, NULL)) != 0) {
        failed("futex_pingpong", "pthread_create");
        return;
    }
    long long t0 = 0;
    for (int i = -1000; i < kFutexIters; i++) {  // the first 1000 are a warm-up
        if (i == 0) t0 = now_ns();
        atomic_store(&g_turn, 1);
        futex(&g_turn, FUTEX_WAKE_PRIVATE, 1);
        while (atomic_load(&g_turn) != 0) futex(&g_turn, FUTEX_WAIT_PRIVATE, 1);
    }
    long long t1 = now_ns();
    pthread_join(t, NULL);
    report("futex_pingpong", kFutexIters / ((double)(t1 - t0) / 1e9), "round_trips/s");
}

static void* nothing(void* arg) { return arg; }

// pthread_create + pthread_join of a thread that returns at once.
static void bench_thread_create(void) {
    long long t0 = 0;
    for (int i = -100; i < kThreadIters; i++) {
        if (i == 0) t0 = now_ns();
        pthread_t t;
        void* r = NULL;
        if ((errno = pthread_create(&t, NULL, nothing, &g_rounds)) != 0) {
            failed("thread_create_join", "pthread_create");
            return;
        }
        if ((errno = pthread_join(t, &r)) != 0 || r != &g_rounds) {
            if (!errno) errno = EINVAL;
            failed("thread_create_join", "pthread_join");
            return;
        }
    }
    long long t1 = now_ns();
    report("thread_create_join", kThreadIters / ((double)(t1 - t0) / 1e9), "threads/s");
}

// Pipe ping-pong: main writes a byte into one pipe, the partner reads it and
// writes it back through a second pipe, main reads it. Time per round trip.
static int g_to[2], g_from[2];

static void* pipe_partner(void* arg) {
    (void)arg;
    char c;
    while (read(g_to[0], &c, 1) == 1)
        if (write(g_from[1], &c, 1) != 1) break;
    return NULL;
}

static void bench_pipe_pingpong(void) {
    if (pipe(g_to) != 0 || pipe(g_from) != 0) {
        failed("pipe_pingpong", "pipe");
        return;
    }
    pthread_t t;
    if ((errno = pthread_create(&t, NULL, pipe_partner, NULL)) != 0) {
        failed("pipe_pingpong", "pthread_create");
        return;
    }
    char c = 'p';
    int ok = 1;
    long long t0 = 0;
    for (int i = -1000; i < kPingIters && ok; i++) {
        if (i == 0) t0 = now_ns();
        ok = write(g_to[1], &c, 1) == 1 && read(g_from[0], &c, 1) == 1;
    }
    long long t1 = now_ns();
    close(g_to[1]);  // the partner's read sees EOF and it returns
    pthread_join(t, NULL);
    close(g_to[0]);
    close(g_from[0]);
    close(g_from[1]);
    if (!ok) {
        failed("pipe_pingpong", "write/read");
        return;
    }
    report("pipe_pingpong", (double)(t1 - t0) / kPingIters, "ns/round_trip");
}

// epoll_wait wake-up: the partner notes the time and writes an eventfd; main,
// asleep in epoll_wait on it, notes when it is back. The mean of the
// differences is the wake-up latency. Main then acknowledges through a second
// (blocking) eventfd so that each write finds main already waiting.
static int g_ev, g_ack;
static _Atomic long long g_stamp;

static void* wake_partner(void* arg) {
    (void)arg;
    uint64_t one = 1, v;
    for (int i = 0; i < g_rounds; i++) {
        atomic_store(&g_stamp, now_ns());
        if (write(g_ev, &one, 8) != 8 || read(g_ack, &v, 8) != 8) break;
    }
    return NULL;
}

static void bench_epoll_wakeup(void) {
    int ep = epoll_create1(0);
    g_ev = eventfd(0, EFD_NONBLOCK);
    g_ack = eventfd(0, 0);
    struct epoll_event ev = {.events = EPOLLIN, .data.u32 = 1}, out;
    if (ep < 0 || g_ev < 0 || g_ack < 0 || epoll_ctl(ep, EPOLL_CTL_ADD, g_ev, &ev) != 0) {
        failed("epoll_wakeup", "epoll_create1/eventfd/epoll_ctl");
        return;
    }
    g_rounds = kWakeIters + 1000;
    pthread_t t;
    if ((errno = pthread_create(&t, NULL, wake_partner, NULL)) != 0) {
        failed("epoll_wakeup", "pthread_create");
        return;
    }
    uint64_t one = 1, v;
    long long late = 0;
    int ok = 1;
    for (int i = -1000; i < kWakeIters && ok; i++) {
        ok = epoll_wait(ep, &out, 1, -1) == 1;
        long long woke = now_ns();
        if (i >= 0) late += woke - atomic_load(&g_stamp);
        ok = ok && read(g_ev, &v, 8) == 8 && write(g_ack, &one, 8) == 8;
    }
    pthread_join(t, NULL);
    close(g_ev);
    close(g_ack);
    close(ep);
    if (!ok) {
        failed("epoll_wakeup", "epoll_wait/read/write");
        return;
    }
    report("epoll_wakeup", (double)late / kWakeIters, "ns/wake");
}

int main(int argc, char** argv) {
    const char* dir = "/tmp";
    int sched = 0;
    long sleep_s = -1;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--dir") == 0 && i + 1 < argc) {
            dir = argv[++i];
        } else if (strcmp(argv[i], "--sched") == 0) {
            sched = 1;
        } else if (strcmp(argv[i], "--sleep") == 0 && i + 1 < argc) {
            sleep_s = atol(argv[++i]);
        } else {
            fprintf(stderr,
                    "usage: syscall-bench [--dir DIR] [--sched | --sleep S]\n"
                    "  DIR for the files, default /tmp; --sched runs bench/sched instead;\n"
                    "  --sleep S only sleeps S seconds (an idle program)\n");
            return 2;
        }
    }
    if (sleep_s >= 0) {
        struct timespec t = {sleep_s, 0};
        while (nanosleep(&t, &t) != 0) {
        }
        return 0;
    }
    if (sched) {
        bench_futex_pingpong();
        bench_thread_create();
        bench_pipe_pingpong();
        bench_epoll_wakeup();
        return g_failed;
    }
    bench_getpid();
    bench_clock();
    bench_open_read(dir);
    bench_write(dir);
    bench_pipe();
    bench_epoll();
    bench_timer_wakeup();
    return g_failed;
}
