/* The host reference for boot-bench: a static hello, fork+exec to exit. */
#include <unistd.h>

int main(void) {
    static const char msg[] = "hello from the host\n";
    return write(1, msg, sizeof msg - 1) == (long)(sizeof msg - 1) ? 0 : 1;
}
