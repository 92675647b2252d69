/* Clocks and sleeps: CLOCK_REALTIME, MONOTONIC, BOOTTIME and the CPU-time
   clocks, gettimeofday and time, nanosleep and clock_nanosleep. Checks only
   what Linux promises (monotonic never goes back, a sleep is never shorter
   than asked, the wall clock is after 2020) and reports the times. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

#include "check.h"

static long long ns(struct timespec t) {
    return t.tv_sec * 1000000000LL + t.tv_nsec;
}

int main(void) {
    struct timespec t;
    CHECK(clock_gettime(CLOCK_REALTIME, &t) == 0 && t.tv_sec > 1577836800, "realtime after 2020");
    struct timeval tv;
    CHECK(gettimeofday(&tv, NULL) == 0 && tv.tv_sec >= t.tv_sec, "gettimeofday");
    CHECK(time(NULL) >= t.tv_sec, "time");
    clockid_t ids[] = {CLOCK_MONOTONIC, CLOCK_BOOTTIME, CLOCK_MONOTONIC_RAW,
                       CLOCK_PROCESS_CPUTIME_ID, CLOCK_THREAD_CPUTIME_ID};
    for (unsigned i = 0; i < sizeof(ids) / sizeof(ids[0]); i++) {
        CHECK(clock_gettime(ids[i], &t) == 0, "clock_gettime");
    }
    CHECK(clock_getres(CLOCK_MONOTONIC, &t) == 0 && ns(t) > 0, "clock_getres");
    struct timespec a, b;
    clock_gettime(CLOCK_MONOTONIC, &a);
    for (int i = 0; i < 100000; i++) {
        clock_gettime(CLOCK_MONOTONIC, &b);
        CHECK(ns(b) >= ns(a), "monotonic never goes back");
        a = b;
    }
    struct timespec req = {0, 10 * 1000 * 1000};
    clock_gettime(CLOCK_MONOTONIC, &a);
    CHECK(nanosleep(&req, NULL) == 0, "nanosleep");
    clock_gettime(CLOCK_MONOTONIC, &b);
    long long slept = ns(b) - ns(a);
    CHECK(slept >= 10000000, "nanosleep lasts at least 10 ms");
    struct timespec until = b;
    until.tv_nsec += 5 * 1000 * 1000;
    if (until.tv_nsec >= 1000000000) until.tv_sec++, until.tv_nsec -= 1000000000;
    CHECK(clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &until, NULL) == 0, "clock_nanosleep");
    clock_gettime(CLOCK_MONOTONIC, &a);
    CHECK(ns(a) >= ns(until), "absolute sleep ends after its deadline");
    printf("clocks: ok (10 ms sleep took %lld us)\n", slept / 1000);
    return 0;
}
