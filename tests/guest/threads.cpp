// Threads on kiln: std::thread, std::mutex, std::condition_variable,
// std::future, pthread_join and detached threads, a pipe between threads,
// and futex contention. Each part checks a result that a broken scheduler
// or futex would get wrong; the program prints "threads: ok" at the end.
#include <pthread.h>
#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <future>
#include <mutex>
#include <thread>
#include <vector>

namespace {

#define CHECK(cond)                                                              \
    do {                                                                         \
        if (!(cond)) {                                                           \
            std::fprintf(stderr, "threads: %s:%d: %s failed\n", __FILE__, __LINE__, #cond); \
            std::exit(1);                                                        \
        }                                                                        \
    } while (0)

void thread_ids() {
    const long main_tid = syscall(SYS_gettid);
    CHECK(main_tid == getpid());
    long child_tid = 0;
    double f = 1.5;
    std::thread t([&] {
        child_tid = syscall(SYS_gettid);
        // The child inherits nothing it should not: its own FPU work must
        // not disturb the parent's.
        volatile double x = 3.25;
        for (int i = 0; i < 1000; i++) x = x * 1.0001;
        CHECK(x > 3.25);
    });
    t.join();
    CHECK(f == 1.5);
    CHECK(child_tid != 0 && child_tid != main_tid);
    std::printf("threads: tids ok\n");
}

void mutex_total(int threads, int iterations) {
    std::mutex m;
    long total = 0;
    std::vector<std::thread> ts;
    for (int i = 0; i < threads; i++) {
        ts.emplace_back([&] {
            for (int j = 0; j < iterations; j++) {
                std::lock_guard<std::mutex> g(m);
                long v = total;
                if ((j & 63) == 0) std::this_thread::yield();  // a switch inside the lock
                total = v + 1;
            }
        });
    }
    for (auto& t : ts) t.join();
    CHECK(total == long(threads) * iterations);
    std::printf("threads: mutex %dx%d ok\n", threads, iterations);
}

void condvar_future() {
    std::mutex m;
    std::condition_variable cv;
    int stage = 0;
    std::thread t([&] {
        std::unique_lock<std::mutex> l(m);
        cv.wait(l, [&] { return stage == 1; });
        stage = 2;
        cv.notify_all();
    });
    {
        std::unique_lock<std::mutex> l(m);
        stage = 1;
        cv.notify_all();
        cv.wait(l, [&] { return stage == 2; });
    }
    t.join();
    std::future<long> fut = std::async(std::launch::async, [] {
        long s = 0;
        for (long i = 1; i <= 1000; i++) s += i;
        return s;
    });
    CHECK(fut.get() == 500500);
    std::printf("threads: condvar and future ok\n");
}

std::atomic<int> detached_done{0};

void* detached_body(void*) {
    detached_done.fetch_add(1);
    return nullptr;
}

void* joined_body(void* arg) {
    return reinterpret_cast<void*>(reinterpret_cast<long>(arg) * 2);
}

void join_and_detach() {
    pthread_t t;
    CHECK(pthread_create(&t, nullptr, joined_body, reinterpret_cast<void*>(21)) == 0);
    void* ret = nullptr;
    CHECK(pthread_join(t, &ret) == 0);
    CHECK(reinterpret_cast<long>(ret) == 42);
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    for (int i = 0; i < 4; i++) {
        pthread_t d;
        CHECK(pthread_create(&d, &attr, detached_body, nullptr) == 0);
    }
    while (detached_done.load() != 4) sched_yield();
    std::printf("threads: join and detach ok\n");
}

void pipe_between_threads() {
    int fds[2];
    CHECK(pipe(fds) == 0);
    constexpr int kBytes = 200000;
    std::thread producer([&] {
        char buf[1000];
        for (int sent = 0; sent < kBytes; sent += int(sizeof(buf))) {
            for (size_t i = 0; i < sizeof(buf); i++) buf[i] = char((sent + i) % 251);
            CHECK(write(fds[1], buf, sizeof(buf)) == ssize_t(sizeof(buf)));
        }
        close(fds[1]);
    });
    long got = 0;
    char buf[4096];
    for (;;) {
        ssize_t n = read(fds[0], buf, sizeof(buf));
        CHECK(n >= 0);
        if (n == 0) break;
        for (ssize_t i = 0; i < n; i++) CHECK(buf[i] == char((got + i) % 251));
        got += n;
    }
    producer.join();
    CHECK(got == kBytes);
    std::printf("threads: pipe ok\n");
}

// A thread that spins without a syscall must not keep the others out for
// ever: only the time slice lets the main thread set the flag.
void preemption() {
    std::atomic<bool> stop{false};
    std::atomic<long> spins{0};
    std::thread spinner([&] {
        while (!stop.load(std::memory_order_relaxed)) spins.fetch_add(1, std::memory_order_relaxed);
    });
    while (spins.load() == 0) {
        // Main runs again only when the spinner's slice ends.
        std::this_thread::yield();
    }
    stop = true;
    spinner.join();
    std::printf("threads: preemption ok\n");
}

volatile sig_atomic_t got_usr1 = 0;

// raise() in a thread is tgkill(getpid(), gettid()): the thread's tid must
// be a valid target.
void raise_in_thread() {
    struct sigaction sa {};
    sa.sa_handler = [](int) { got_usr1 = 1; };
    CHECK(sigaction(SIGUSR1, &sa, nullptr) == 0);
    int rc = -1;
    std::thread t([&] { rc = raise(SIGUSR1); });
    t.join();
    CHECK(rc == 0);
    CHECK(got_usr1 == 1);
    std::printf("threads: raise ok\n");
}

std::atomic<long> handler_tid{0};

// tgkill names one thread: a signal sent to a worker blocked in read()
// runs its handler in that worker and ends the read with EINTR (no
// SA_RESTART), while the main thread, not blocking it, is left alone. A
// kill() for the whole process is taken by the main thread, as on Linux.
void signal_to_one_thread() {
    struct sigaction sa {};
    sa.sa_handler = [](int) { handler_tid = syscall(SYS_gettid); };
    CHECK(sigaction(SIGUSR2, &sa, nullptr) == 0);
    int fds[2];
    CHECK(pipe(fds) == 0);
    std::atomic<long> worker_tid{0};
    std::atomic<int> read_errno{0};
    std::thread t([&] {
        worker_tid = syscall(SYS_gettid);
        char c;
        ssize_t n = read(fds[0], &c, 1);
        read_errno = n < 0 ? errno : 0;
    });
    while (worker_tid.load() == 0) sched_yield();
    for (int i = 0; i < 50; i++) sched_yield();  // let it block in read
    CHECK(syscall(SYS_tgkill, getpid(), worker_tid.load(), SIGUSR2) == 0);
    t.join();
    CHECK(read_errno.load() == EINTR);
    CHECK(handler_tid.load() == worker_tid.load());
    handler_tid = 0;
    CHECK(kill(getpid(), SIGUSR2) == 0);
    CHECK(handler_tid.load() == syscall(SYS_gettid));
    close(fds[0]);
    close(fds[1]);
    std::printf("threads: tgkill to one thread ok\n");
}

// `threads mainexit`: the main thread leaves with pthread_exit; the
// process lives on in a worker, which ends it with status 7.
void* last_worker(void*) {
    for (int i = 0; i < 100; i++) sched_yield();
    std::printf("threads: worker outlived main\n");
    std::fflush(stdout);
    std::exit(7);
}

}  // namespace

int main(int argc, char** argv) {
    if (argc > 1 && std::strcmp(argv[1], "mainexit") == 0) {
        pthread_t t;
        CHECK(pthread_create(&t, nullptr, last_worker, nullptr) == 0);
        pthread_exit(nullptr);
    }
    thread_ids();
    mutex_total(8, 20000);
    mutex_total(64, 10000);
    condvar_future();
    join_and_detach();
    pipe_between_threads();
    preemption();
    raise_in_thread();
    signal_to_one_thread();
    std::printf("threads: ok\n");
    return 0;
}
