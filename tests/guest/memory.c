/* Memory: anonymous mmap and munmap, mprotect, MAP_FIXED over part of a
   mapping, a PROT_NONE reservation committed piecewise, brk growth and
   shrink, and malloc of large and many small blocks. Prints "memory: ok". */
#define _GNU_SOURCE
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "check.h"

int main(void) {
    const size_t page = (size_t)sysconf(_SC_PAGESIZE);
    CHECK(page == 4096, "page size 4096");
    size_t len = 64 * page;
    unsigned char* p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    CHECK(p != MAP_FAILED, "mmap anonymous");
    CHECK(((uintptr_t)p & (page - 1)) == 0, "mmap is page-aligned");
    for (size_t i = 0; i < len; i++) CHECK(p[i] == 0, "fresh memory is zero");
    for (size_t i = 0; i < len; i++) p[i] = (unsigned char)i;
    CHECK(mprotect(p, page, PROT_READ) == 0, "mprotect read-only");
    CHECK(p[1] == 1, "read after mprotect");
    CHECK(mprotect(p, page, PROT_READ | PROT_WRITE) == 0 && (p[0] = 9) == 9, "mprotect back");
    unsigned char* q = mmap(p + 8 * page, 2 * page, PROT_READ | PROT_WRITE,
                            MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
    CHECK(q == p + 8 * page, "MAP_FIXED lands where asked");
    CHECK(q[0] == 0 && q[page] == 0, "MAP_FIXED replaces with zeros");
    CHECK(p[7 * page] == (unsigned char)(7 * page) && p[10 * page] == (unsigned char)(10 * page),
          "MAP_FIXED leaves the neighbours");
    CHECK(munmap(p + 16 * page, 16 * page) == 0, "munmap the middle");
    CHECK(munmap(p, len) == 0, "munmap all (holes included)");
    CHECK(munmap(p, len) == 0, "munmap again is fine");

    size_t rlen = 1024 * page; /* 4 MiB reserved, committed in pieces */
    unsigned char* r =
        mmap(NULL, rlen, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    CHECK(r != MAP_FAILED, "PROT_NONE reservation");
    CHECK(mprotect(r + 100 * page, 10 * page, PROT_READ | PROT_WRITE) == 0, "commit a piece");
    memset(r + 100 * page, 0x5a, 10 * page);
    CHECK(r[105 * page] == 0x5a, "write the piece");
    CHECK(munmap(r, rlen) == 0, "drop the reservation");

    // The raw brk syscall: musl's sbrk() only answers sbrk(0).
    char* b0 = (char*)syscall(SYS_brk, 0);
    CHECK(b0 != NULL, "brk(0) gives the break");
    CHECK((char*)syscall(SYS_brk, b0 + 3 * page) == b0 + 3 * page, "brk grows");
    memset(b0, 1, 3 * page);
    CHECK((char*)syscall(SYS_brk, b0 + page) == b0 + page, "brk shrinks");
    CHECK((char*)syscall(SYS_brk, b0) == b0, "brk back");

    char* big = malloc(32 << 20);
    CHECK(big != NULL, "malloc 32 MiB");
    memset(big, 7, 32 << 20);
    CHECK(big[(32 << 20) - 1] == 7, "use 32 MiB");
    free(big);
    void* small[2000];
    for (int i = 0; i < 2000; i++) CHECK((small[i] = malloc(16 + i % 200)) != NULL, "malloc small");
    for (int i = 0; i < 2000; i += 2) free(small[i]);
    for (int i = 1; i < 2000; i += 2) free(small[i]);
    printf("memory: ok\n");
    return 0;
}
