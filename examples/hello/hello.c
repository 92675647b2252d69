/* The bundled example: an ordinary Linux program, built with the host's
   gcc and run unmodified as its own VM by `make run` (kiln run). */
#include <stdio.h>
#include <sys/utsname.h>

int main(int argc, char** argv) {
    struct utsname u;
    uname(&u);
    printf("Hello from %s, running on %s %s (%s) inside kiln.\n", argc > 0 ? argv[0] : "hello",
           u.sysname, u.release, u.machine);
    return 0;
}
