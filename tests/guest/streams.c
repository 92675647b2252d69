/* stdout and stderr stay two streams; stdin is read to its end. Prints how
   many bytes and lines came in and their sum, so the caller can check. */
#include <stdio.h>
#include <unistd.h>

int main(void) {
    fputs("to stdout\n", stdout);
    fflush(stdout);
    fputs("to stderr\n", stderr);
    unsigned long bytes = 0, lines = 0, sum = 0;
    char buf[4096];
    ssize_t n;
    while ((n = read(0, buf, sizeof(buf))) > 0) {
        for (ssize_t i = 0; i < n; i++) {
            sum += (unsigned char)buf[i];
            if (buf[i] == '\n') lines++;
        }
        bytes += n;
    }
    if (n < 0) {
        perror("read stdin");
        return 1;
    }
    printf("stdin: %lu bytes, %lu lines, sum %lu\n", bytes, lines, sum);
    return 0;
}
