/* getrandom (blocking and GRND_NONBLOCK) and /dev/urandom: bytes arrive,
   and two draws differ. Prints "random: ok". */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include "check.h"

int main(void) {
    unsigned char a[64], b[64], zero[64] = {0};
    CHECK(getrandom(a, sizeof(a), 0) == sizeof(a), "getrandom");
    CHECK(getrandom(b, sizeof(b), GRND_NONBLOCK) == sizeof(b), "getrandom GRND_NONBLOCK");
    CHECK(memcmp(a, b, sizeof(a)) != 0, "two draws differ");
    CHECK(memcmp(a, zero, sizeof(a)) != 0, "not all zero");
    unsigned char big[100000];
    CHECK(getrandom(big, sizeof(big), 0) > 0, "getrandom large");
    int fd = open("/dev/urandom", O_RDONLY);
    CHECK(fd >= 0, "open /dev/urandom");
    CHECK(read(fd, a, sizeof(a)) == sizeof(a) && memcmp(a, b, sizeof(a)) != 0, "read /dev/urandom");
    close(fd);
    printf("random: ok\n");
    return 0;
}
