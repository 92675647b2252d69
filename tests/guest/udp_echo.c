/* A UDP echo server for the network tests: answers every datagram with its
   own bytes; a datagram that starts with "quit" is answered and ends the
   program (status 0).
     udp_echo [--port N]   (default 7) */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

int main(int argc, char** argv) {
    int port = 7;
    if (argc == 3 && strcmp(argv[1], "--port") == 0) {
        port = atoi(argv[2]);
    } else if (argc != 1) {
        fprintf(stderr, "usage: udp_echo [--port N]\n");
        return 2;
    }
    int s = socket(AF_INET, SOCK_DGRAM, 0);
    if (s < 0) {
        perror("udp_echo: socket");
        return 1;
    }
    struct sockaddr_in a;
    memset(&a, 0, sizeof(a));
    a.sin_family = AF_INET;
    a.sin_port = htons((unsigned short)port);
    a.sin_addr.s_addr = htonl(INADDR_ANY);
    if (bind(s, (struct sockaddr*)&a, sizeof(a)) != 0) {
        perror("udp_echo: bind");
        return 1;
    }
    printf("udp echo on port %d\n", port);
    fflush(stdout);
    for (;;) {
        char buf[65536];
        struct sockaddr_in from;
        socklen_t len = sizeof(from);
        ssize_t n = recvfrom(s, buf, sizeof(buf), 0, (struct sockaddr*)&from, &len);
        if (n < 0) {
            perror("udp_echo: recvfrom");
            return 1;
        }
        if (sendto(s, buf, (size_t)n, 0, (struct sockaddr*)&from, len) != n) {
            perror("udp_echo: sendto");
            return 1;
        }
        if (n >= 4 && memcmp(buf, "quit", 4) == 0) return 0;
    }
}
