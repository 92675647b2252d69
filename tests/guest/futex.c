/* futex(2) between threads: timeouts (relative, absolute on
   CLOCK_MONOTONIC and CLOCK_REALTIME), WAKE_BITSET choosing waiters by
   bitset, CMP_REQUEUE moving waiters to another word, WAKE_OP. Waiters are
   raw clone threads made with pthread_create; each part counts the woken
   and the returned values, so a futex that wakes the wrong thread, too
   many or none fails (or hangs: the e2e test's timeout). */
#include <limits.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "check.h"

/* include/uapi/linux/futex.h (musl-gcc has no kernel headers). */
#define FUTEX_WAIT_PRIVATE 128
#define FUTEX_WAKE_PRIVATE 129
#define FUTEX_CMP_REQUEUE_PRIVATE 132
#define FUTEX_WAKE_OP_PRIVATE 133
#define FUTEX_WAIT_BITSET_PRIVATE 137
#define FUTEX_WAKE_BITSET_PRIVATE 138
#define FUTEX_CLOCK_REALTIME 256
#define FUTEX_BITSET_MATCH_ANY 0xffffffffu
#define FUTEX_OP_SET 0
#define FUTEX_OP_CMP_EQ 0
#define FUTEX_OP(op, oparg, cmp, cmparg) \
    (((op & 0xf) << 28) | ((cmp & 0xf) << 24) | ((oparg & 0xfff) << 12) | (cmparg & 0xfff))

static long futex(uint32_t* uaddr, int op, uint32_t val, const void* timeout, uint32_t* uaddr2,
                  uint32_t val3) {
    return syscall(SYS_futex, uaddr, op, val, timeout, uaddr2, val3);
}

static uint64_t now_ns(clockid_t c) {
    struct timespec ts;
    clock_gettime(c, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static uint32_t word_a, word_b;
static atomic_int started, woken;

struct waiter {
    uint32_t* word;
    uint32_t bitset;
    long result;
};

static void* wait_body(void* arg) {
    struct waiter* w = arg;
    atomic_fetch_add(&started, 1);
    w->result = futex(w->word, FUTEX_WAIT_BITSET_PRIVATE, 0, NULL, NULL, w->bitset);
    atomic_fetch_add(&woken, 1);
    return NULL;
}

/* Starts n waiters and lets them all block (one CPU: every yield runs the
   runnable ones until they block). */
static void start_waiters(pthread_t* t, struct waiter* w, int n) {
    atomic_store(&started, 0);
    atomic_store(&woken, 0);
    for (int i = 0; i < n; i++) pthread_create(&t[i], NULL, wait_body, &w[i]);
    while (atomic_load(&started) != n) sched_yield();
    for (int i = 0; i < 20; i++) sched_yield();
}

static void settle(void) {
    for (int i = 0; i < 20; i++) sched_yield();
}

int main(void) {
    uint32_t v = 1;
    errno = 0;
    CHECK(futex(&v, FUTEX_WAIT_PRIVATE, 0, NULL, NULL, 0) == -1 && errno == EAGAIN,
          "wait on a changed word is EAGAIN");

    struct timespec rel = {0, 20000000};
    uint64_t t0 = now_ns(CLOCK_MONOTONIC);
    CHECK(futex(&v, FUTEX_WAIT_PRIVATE, 1, &rel, NULL, 0) == -1 && errno == ETIMEDOUT,
          "relative timeout");
    CHECK(now_ns(CLOCK_MONOTONIC) - t0 >= 20000000, "relative timeout waited 20 ms");

    uint64_t dl = now_ns(CLOCK_REALTIME) + 20000000;
    struct timespec abs_rt = {(time_t)(dl / 1000000000u), (long)(dl % 1000000000u)};
    t0 = now_ns(CLOCK_MONOTONIC);
    CHECK(futex(&v, FUTEX_WAIT_BITSET_PRIVATE | FUTEX_CLOCK_REALTIME, 1, &abs_rt, NULL,
                FUTEX_BITSET_MATCH_ANY) == -1 &&
              errno == ETIMEDOUT,
          "absolute CLOCK_REALTIME timeout");
    CHECK(now_ns(CLOCK_MONOTONIC) - t0 >= 15000000, "absolute timeout waited");

    /* WAKE_BITSET picks waiters by bitset. */
    pthread_t t[4];
    struct waiter w[4] = {{&word_a, 1, -9}, {&word_a, 2, -9}, {&word_a, 4, -9}};
    start_waiters(t, w, 3);
    CHECK(atomic_load(&woken) == 0, "waiters block");
    CHECK(futex(&word_a, FUTEX_WAKE_BITSET_PRIVATE, INT_MAX, NULL, NULL, 2) == 1,
          "WAKE_BITSET 2 wakes one");
    settle();
    CHECK(atomic_load(&woken) == 1 && w[1].result == 0 && w[0].result == -9, "the bitset-2 waiter");
    CHECK(futex(&word_a, FUTEX_WAKE_BITSET_PRIVATE, INT_MAX, NULL, NULL, 1 | 4) == 2,
          "WAKE_BITSET 5 wakes two");
    for (int i = 0; i < 3; i++) pthread_join(t[i], NULL);
    CHECK(w[0].result == 0 && w[2].result == 0, "all woken with 0");

    /* CMP_REQUEUE: wake one, move two to word_b, leave one. */
    for (int i = 0; i < 4; i++) w[i] = (struct waiter){&word_a, FUTEX_BITSET_MATCH_ANY, -9};
    start_waiters(t, w, 4);
    errno = 0;
    CHECK(futex(&word_a, FUTEX_CMP_REQUEUE_PRIVATE, 1, (void*)2, &word_b, 7) == -1 &&
              errno == EAGAIN,
          "CMP_REQUEUE with a stale value is EAGAIN");
    CHECK(futex(&word_a, FUTEX_CMP_REQUEUE_PRIVATE, 1, (void*)2, &word_b, 0) == 3,
          "CMP_REQUEUE wakes 1 and moves 2");
    settle();
    CHECK(atomic_load(&woken) == 1, "one woken by the requeue");
    CHECK(futex(&word_b, FUTEX_WAKE_PRIVATE, INT_MAX, NULL, NULL, 0) == 2, "two wait on word_b");
    CHECK(futex(&word_a, FUTEX_WAKE_PRIVATE, INT_MAX, NULL, NULL, 0) == 1, "one left on word_a");
    for (int i = 0; i < 4; i++) pthread_join(t[i], NULL);
    CHECK(atomic_load(&woken) == 4, "all four woken");

    /* WAKE_OP: set word_b to 5 and, as its old value was 0, wake both words. */
    w[0] = (struct waiter){&word_a, FUTEX_BITSET_MATCH_ANY, -9};
    w[1] = (struct waiter){&word_b, FUTEX_BITSET_MATCH_ANY, -9};
    start_waiters(t, w, 2);
    CHECK(futex(&word_a, FUTEX_WAKE_OP_PRIVATE, 1, (void*)1, &word_b,
                FUTEX_OP(FUTEX_OP_SET, 5, FUTEX_OP_CMP_EQ, 0)) == 2,
          "WAKE_OP wakes both");
    CHECK(word_b == 5, "WAKE_OP stored 5");
    for (int i = 0; i < 2; i++) pthread_join(t[i], NULL);

    printf("futex: ok\n");
    return 0;
}
