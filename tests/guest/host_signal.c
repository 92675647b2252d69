/* Waits in sleep() for a signal sent to the monitor from the host. With an
   argument it handles SIGINT and SIGTERM (prints "got signal N", exits 42);
   without, the default action must end it (128 + N). */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static void on_signal(int sig) {
    printf("got signal %d\n", sig);
    fflush(stdout);
    _exit(42);
}

int main(int argc, char** argv) {
    (void)argv;
    if (argc > 1) {
        struct sigaction sa;
        memset(&sa, 0, sizeof(sa));
        sa.sa_handler = on_signal;
        sigaction(SIGTERM, &sa, NULL);
        sigaction(SIGINT, &sa, NULL);
    }
    printf("sleeping\n");
    fflush(stdout);
    sleep(30);
    printf("woke without a signal\n");
    return 1;
}
