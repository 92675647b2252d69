/* Hostile socket calls: the socket family of system calls with random
   arguments -- kernel and wild pointers, huge and negative lengths, bad
   flags, descriptors of every kind -- on AF_UNIX and AF_INET sockets. Each
   call must come back with a result or an errno (never a kernel crash or
   a hang: receives and accepts are non-blocking). The seed (argv[1]) picks
   the sequence. */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <netinet/in.h>
#include <unistd.h>
#include <stdlib.h>
static uint64_t x = 88172645463325252ull;
static uint64_t rnd(void) { x ^= x << 13; x ^= x >> 7; x ^= x << 17; return x; }
static uint64_t arg(int sv) {
    switch (rnd() % 10) {
    case 0: return 0;
    case 1: return 1;
    case 2: return 0xffffffff80000000ull + (rnd() & 0xffff);
    case 3: return (uint64_t)-1;
    case 4: return rnd();
    case 5: return sv;
    case 6: return 0x7fffffff;
    case 7: return (uint64_t)(uintptr_t)&x;
    case 8: return 16;
    default: return rnd() & 0xff;
    }
}
int main(int argc, char** argv) {
    if (argc > 1) x ^= (uint64_t)atoll(argv[1]) * 0x9e3779b97f4a7c15ull;
    int nrs[] = {SYS_socket, SYS_bind, SYS_listen, SYS_accept, SYS_accept4, SYS_connect, SYS_shutdown, SYS_sendto,
                 SYS_recvfrom, SYS_sendmsg, SYS_recvmsg, SYS_sendmmsg, SYS_recvmmsg, SYS_getsockname,
                 SYS_getpeername, SYS_setsockopt, SYS_getsockopt, SYS_socketpair};
    int n = 0;
    signal(SIGPIPE, SIG_IGN); /* sends on shut-down sockets: EPIPE, not death */
    for (int i = 0; i < 5000; i++) {
        int sv[2] = {-1, -1};
        int t = rnd() % 3;
        if (t == 0) socketpair(AF_UNIX, (rnd() & 1) ? SOCK_STREAM : SOCK_DGRAM | SOCK_NONBLOCK, 0, sv);
        else if (t == 1) sv[0] = socket(AF_INET, ((rnd() & 1) ? SOCK_STREAM : SOCK_DGRAM) | SOCK_NONBLOCK, 0);
        else sv[0] = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK, 0);
        for (int k = 0; k < 4; k++) {
            int nr = nrs[rnd() % (sizeof nrs / sizeof nrs[0])];
            uint64_t a[6];
            for (int j = 0; j < 6; j++) a[j] = arg(sv[0]);
            if (rnd() & 1) a[0] = sv[0];
            if (nr == SYS_accept || nr == SYS_accept4 || nr == SYS_recvfrom || nr == SYS_recvmsg || nr == SYS_recvmmsg || nr == SYS_connect) {
                /* keep blocking calls from blocking for ever */
                if (nr == SYS_recvfrom || nr == SYS_recvmsg) a[nr == SYS_recvfrom ? 3 : 2] |= MSG_DONTWAIT;
                if (nr == SYS_recvmmsg) a[3] |= MSG_DONTWAIT;
            }
            long r = syscall(nr, a[0], a[1], a[2], a[3], a[4], a[5]);
            if (r >= 0 && (nr == SYS_socket || nr == SYS_accept || nr == SYS_accept4) && r > 2) close(r);
            n++;
        }
        if (sv[0] > 2) close(sv[0]);
        if (sv[1] > 2) close(sv[1]);
    }
    printf("net_hostile: %d calls survived\n", n);
    return 0;
}
