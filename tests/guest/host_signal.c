/* Waits in sleep() for a signal sent to the monitor from the host. With an
   argument it handles SIGINT and SIGTERM (prints "got signal N", exits 42);
   without, the default action must end it (128 + N). */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* Only async-signal-safe calls here: the signal may land while the program
   is anywhere, including inside stdio (a printf in the handler could then
   flush the interrupted buffer a second time). */
static void on_signal(int sig) {
    char msg[] = "got signal NN\n";
    msg[11] = (char)('0' + sig / 10);
    msg[12] = (char)('0' + sig % 10);
    write(1, msg, sizeof(msg) - 1);
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
    static const char sleeping[] = "sleeping\n";
    write(1, sleeping, sizeof(sleeping) - 1);
    sleep(30);
    static const char woke[] = "woke without a signal\n";
    write(1, woke, sizeof(woke) - 1);
    return 1;
}
