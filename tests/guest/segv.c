/* A write through a null pointer: SIGSEGV, status 128 + 11 = 139, with the
   kernel's report naming the signal and the address. */
#include <stdio.h>

int main(void) {
    printf("about to fault\n");
    fflush(stdout);
    volatile int* p = (volatile int*)0;
    *p = 42;
    return 0;
}
