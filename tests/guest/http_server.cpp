// A small static HTTP/1.1 server for the network tests and bench/net: the
// same binary runs inside kiln and natively, so the two can be compared.
//
//   http_server [--port N] [--addr IPV4] [--file PATH | --body-size N]
//               [--max-requests N]
//
// One thread, epoll, non-blocking sockets, keep-alive (HTTP/1.1 by default,
// HTTP/1.0 with "Connection: keep-alive"), pipelined requests answered in
// order. Every request gets 200 with the same body: the file's contents
// (read once at start), else N bytes of 'x' (--body-size), else
// "hello from kiln\n". Prints "listening on ADDR:PORT" on stdout once it
// accepts connections; with --max-requests it exits 0 after answering that
// many requests (so a test's VM ends by itself).
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <map>
#include <string>

namespace {

struct Conn {
    std::string in;
    std::string out;
    size_t out_off = 0;
    bool close_after = false;  // the last response is queued: close once sent
};

std::string g_response_head_keep, g_response_head_close, g_body;
long g_max_requests = -1;
long g_requests = 0;

[[noreturn]] void die(const char* what) {
    fprintf(stderr, "http_server: %s: %s\n", what, strerror(errno));
    exit(1);
}

bool header_has(const std::string& head, const char* name, const char* value) {
    // Case-insensitive "\r\nName: ...value..." within the head.
    size_t n = strlen(name);
    for (size_t p = head.find("\r\n"); p != std::string::npos; p = head.find("\r\n", p + 2)) {
        size_t line = p + 2;
        if (head.size() - line > n && strncasecmp(head.c_str() + line, name, n) == 0 &&
            head[line + n] == ':') {
            size_t end = head.find("\r\n", line);
            std::string v = head.substr(line + n + 1, end == std::string::npos ? end : end - line - n - 1);
            return strcasestr(v.c_str(), value) != nullptr;
        }
    }
    return false;
}

long content_length(const std::string& head) {
    const char* name = "content-length";
    size_t n = strlen(name);
    for (size_t p = head.find("\r\n"); p != std::string::npos; p = head.find("\r\n", p + 2)) {
        size_t line = p + 2;
        if (head.size() - line > n && strncasecmp(head.c_str() + line, name, n) == 0 &&
            head[line + n] == ':') {
            return atol(head.c_str() + line + n + 1);
        }
    }
    return 0;
}

// Answers every complete request in c.in; false when the connection is bad.
bool handle_requests(Conn& c) {
    for (;;) {
        size_t end = c.in.find("\r\n\r\n");
        if (end == std::string::npos) return c.in.size() < 64 * 1024;  // headers too long: drop
        std::string head = c.in.substr(0, end + 2);
        long body = content_length(head);
        if (body < 0 || c.in.size() < end + 4 + static_cast<size_t>(body)) return true;
        c.in.erase(0, end + 4 + body);
        bool http10 = head.find(" HTTP/1.0\r\n") != std::string::npos;
        bool close = http10 ? !header_has(head, "connection", "keep-alive")
                            : header_has(head, "connection", "close");
        ++g_requests;
        if (g_max_requests >= 0 && g_requests >= g_max_requests) close = true;
        c.out += close ? g_response_head_close : g_response_head_keep;
        c.out += g_body;
        if (close) {
            c.close_after = true;
            c.in.clear();
            return true;
        }
    }
}

// Sends what is queued; false when the connection is finished or broken.
bool flush(int fd, Conn& c) {
    while (c.out_off < c.out.size()) {
        ssize_t n = send(fd, c.out.data() + c.out_off, c.out.size() - c.out_off, MSG_NOSIGNAL);
        if (n < 0) return errno == EAGAIN || errno == EWOULDBLOCK;
        c.out_off += n;
    }
    c.out.clear();
    c.out_off = 0;
    return !c.close_after;
}

}  // namespace

int main(int argc, char** argv) {
    int port = 80;
    const char* addr = "0.0.0.0";
    const char* file = nullptr;
    long body_size = -1;
    for (int i = 1; i < argc; ++i) {
        std::string a = argv[i];
        const char* v = i + 1 < argc ? argv[i + 1] : nullptr;
        if (a == "--port" && v) port = atoi(argv[++i]);
        else if (a == "--addr" && v) addr = argv[++i];
        else if (a == "--file" && v) file = argv[++i];
        else if (a == "--body-size" && v) body_size = atol(argv[++i]);
        else if (a == "--max-requests" && v) g_max_requests = atol(argv[++i]);
        else {
            fprintf(stderr, "usage: http_server [--port N] [--addr IPV4] [--file PATH | "
                            "--body-size N] [--max-requests N]\n");
            return 2;
        }
    }
    if (file != nullptr) {
        FILE* f = fopen(file, "rb");
        if (f == nullptr) die(file);
        char buf[65536];
        size_t n;
        while ((n = fread(buf, 1, sizeof(buf), f)) > 0) g_body.append(buf, n);
        fclose(f);
    } else if (body_size >= 0) {
        g_body.assign(static_cast<size_t>(body_size), 'x');
    } else {
        g_body = "hello from kiln\n";
    }
    std::string len = std::to_string(g_body.size());
    g_response_head_keep = "HTTP/1.1 200 OK\r\nServer: kiln-test\r\nContent-Type: text/plain\r\n"
                           "Content-Length: " + len + "\r\n\r\n";
    g_response_head_close = "HTTP/1.1 200 OK\r\nServer: kiln-test\r\nContent-Type: text/plain\r\n"
                            "Connection: close\r\nContent-Length: " + len + "\r\n\r\n";
    signal(SIGPIPE, SIG_IGN);

    int ls = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (ls < 0) die("socket");
    int one = 1;
    setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    sockaddr_in sa = {};
    sa.sin_family = AF_INET;
    sa.sin_port = htons(static_cast<uint16_t>(port));
    if (inet_pton(AF_INET, addr, &sa.sin_addr) != 1) {
        fprintf(stderr, "http_server: --addr %s is not an IPv4 address\n", addr);
        return 2;
    }
    if (bind(ls, reinterpret_cast<sockaddr*>(&sa), sizeof(sa)) != 0) die("bind");
    if (listen(ls, 1024) != 0) die("listen");
    int ep = epoll_create1(EPOLL_CLOEXEC);
    if (ep < 0) die("epoll_create1");
    epoll_event ev = {};
    ev.events = EPOLLIN;
    ev.data.fd = ls;
    if (epoll_ctl(ep, EPOLL_CTL_ADD, ls, &ev) != 0) die("epoll_ctl");
    printf("listening on %s:%d\n", addr, port);
    fflush(stdout);

    std::map<int, Conn> conns;
    epoll_event events[256];
    for (;;) {
        int n = epoll_wait(ep, events, 256, -1);
        if (n < 0) {
            if (errno == EINTR) continue;
            die("epoll_wait");
        }
        for (int i = 0; i < n; ++i) {
            int fd = events[i].data.fd;
            if (fd == ls) {
                for (;;) {
                    int c = accept4(ls, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
                    if (c < 0) break;
                    setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
                    epoll_event cev = {};
                    cev.events = EPOLLIN | EPOLLRDHUP;
                    cev.data.fd = c;
                    epoll_ctl(ep, EPOLL_CTL_ADD, c, &cev);
                    conns[c];
                }
                continue;
            }
            Conn& c = conns[fd];
            bool alive = true;
            if (events[i].events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) {
                char buf[16384];
                for (;;) {
                    ssize_t r = recv(fd, buf, sizeof(buf), 0);
                    if (r > 0) {
                        c.in.append(buf, r);
                        continue;
                    }
                    if (r == 0 || (errno != EAGAIN && errno != EWOULDBLOCK)) alive = false;
                    break;
                }
                if (!c.close_after && !handle_requests(c)) alive = false;
            }
            if (alive || !c.out.empty()) alive = flush(fd, c) && alive;
            if (!alive && c.out.empty()) {
                epoll_ctl(ep, EPOLL_CTL_DEL, fd, nullptr);
                close(fd);
                conns.erase(fd);
            } else {
                epoll_event mev = {};
                mev.events = EPOLLIN | EPOLLRDHUP | (c.out.empty() ? 0u : static_cast<uint32_t>(EPOLLOUT));
                mev.data.fd = fd;
                epoll_ctl(ep, EPOLL_CTL_MOD, fd, &mev);
            }
            if (g_max_requests >= 0 && g_requests >= g_max_requests && conns.empty()) return 0;
        }
    }
}
