/* argv, environment and exit status: prints every argument and a few
   variables; "--exit N" as the first argument makes the status N. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

extern char** environ;

int main(int argc, char** argv) {
    printf("argc=%d\n", argc);
    for (int i = 1; i < argc; i++) printf("argv[%d]=%s\n", i, argv[i]);
    const char* names[] = {"PATH", "HOME", "KILN_TEST", "EMPTY"};
    for (unsigned i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        const char* v = getenv(names[i]);
        printf("%s%s%s\n", names[i], v ? "=" : " unset", v ? v : "");
    }
    int n = 0;
    for (char** e = environ; *e; e++) n++;
    printf("envc=%d\n", n);
    if (argc >= 3 && strcmp(argv[1], "--exit") == 0) return atoi(argv[2]);
    return 0;
}
