// Connects to HOST:PORT, writes BYTES bytes (a repeating pattern) and ends
// at once, without close() or shutdown(): what it wrote must still reach
// the peer, as it does when a Linux process exits with data in flight
// (tests/e2e/net_programs_test.cpp).
//
//   net_send HOST PORT BYTES
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

int main(int argc, char** argv) {
    if (argc != 4) {
        fprintf(stderr, "usage: net_send HOST PORT BYTES\n");
        return 2;
    }
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(atoi(argv[2]))};
    if (inet_pton(AF_INET, argv[1], &a.sin_addr) != 1) {
        fprintf(stderr, "net_send: bad address %s\n", argv[1]);
        return 2;
    }
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0 || connect(fd, (struct sockaddr*)&a, sizeof(a)) != 0) {
        perror("net_send: connect");
        return 1;
    }
    static char buf[65536];
    for (size_t i = 0; i < sizeof(buf); i++) buf[i] = (char)('a' + i % 26);
    long left = atol(argv[3]);
    while (left > 0) {
        ssize_t n = write(fd, buf, left < (long)sizeof(buf) ? (size_t)left : sizeof(buf));
        if (n <= 0) {
            perror("net_send: write");
            return 1;
        }
        left -= n;
    }
    return 0;  // no close: the exit does it
}
