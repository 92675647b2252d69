/* CHECK(cond, what): the guest programs' one assertion. On failure it
   prints "FAIL: what (errno N text)" on stdout and returns 1 from main, so
   the end-to-end test shows which step broke. */
#pragma once

#include <errno.h>
#include <stdio.h>
#include <string.h>

#define CHECK(cond, what)                                                     \
    do {                                                                      \
        if (!(cond)) {                                                        \
            printf("FAIL: %s (errno %d %s)\n", what, errno, strerror(errno)); \
            return 1;                                                         \
        }                                                                     \
    } while (0)
