/* abort(): SIGABRT, so the status is 128 + 6 = 134. */
#include <stdio.h>
#include <stdlib.h>

int main(void) {
    printf("about to abort\n");
    fflush(stdout);
    abort();
}
