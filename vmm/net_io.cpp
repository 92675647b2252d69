#include "net_io.h"

#include "log.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <semaphore.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

namespace kiln::vmm {

namespace {

sem_t g_started;

void* net_io_main(void* arg) {
    NetIo& io = *static_cast<NetIo*>(arg);
    // The thread's start-up in libc (rseq, robust list, signal mask) is done:
    // from here on it makes only the system calls the seccomp filter allows.
    sem_post(&g_started);
    bool rx_stalled = true;   // until DRIVER_OK there is nowhere to put packets
    bool tx_waiting = false;  // the backend refused a packet: wait until writable
    bool backend_gone = false;
    for (;;) {
        struct pollfd fds[2] = {};
        fds[0].fd = io.kick_fd;
        fds[0].events = POLLIN;
        fds[1].fd = backend_gone ? -1 : io.backend.fd();
        fds[1].events = static_cast<short>((rx_stalled ? 0 : POLLIN) | (tx_waiting ? POLLOUT : 0));
        int n = poll(fds, 2, -1);
        if (n < 0) {
            if (errno == EINTR) continue;
            log("virtio-net: the I/O thread's poll failed (%s); networking stops", strerror(errno));
            return nullptr;
        }
        if (fds[0].revents & POLLIN) {
            uint64_t count;
            (void)!read(io.kick_fd, &count, sizeof(count));
        }
        if (!backend_gone && (fds[1].revents & (POLLHUP | POLLERR | POLLNVAL)) &&
            !(fds[1].revents & POLLIN)) {
            // kiln-slirp ended (it said why on stderr) or the TAP went away.
            log("virtio-net: the network backend closed; the guest's link is down");
            backend_gone = true;
        }
        std::lock_guard<std::mutex> guard(io.transport.lock());
        if (!io.transport.live()) {
            rx_stalled = true;  // DRIVER_OK (or a reset) kicks us again
            tx_waiting = false;
            continue;
        }
        ++io.net.passes;
        tx_waiting = !backend_gone && io.net.transmit(io.transport);
        rx_stalled = backend_gone || io.net.receive(io.transport);
    }
}

}  // namespace

void flush_net_io(NetIo* io) {
    std::lock_guard<std::mutex> guard(io->transport.lock());
    // A backend that pushes back gets a few more tries, not a wait.
    for (int i = 0; i < 8 && io->transport.live() && io->net.transmit(io->transport); ++i) {
    }
}

void print_net_stats(NetIo* io) {
    std::lock_guard<std::mutex> guard(io->transport.lock());
    const VirtioNet& n = io->net;
    char line[256];
    int len = snprintf(line, sizeof(line),
                       "kiln-vmm net stats: tx_packets=%llu rx_packets=%llu dropped=%llu "
                       "kicks=%llu interrupts=%llu io_passes=%llu\n",
                       (unsigned long long)n.tx_packets, (unsigned long long)n.rx_packets,
                       (unsigned long long)n.dropped, (unsigned long long)n.kicks,
                       (unsigned long long)io->transport.interrupts(),
                       (unsigned long long)n.passes);
    write_all(STDERR_FILENO, line, len);
}

void start_net_io(NetIo* io) {
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    // Deep enough for poll and the packet passes (their buffers are static).
    pthread_attr_setstacksize(&attr, 64 * 1024);
    pthread_t thread;
    sem_init(&g_started, 0, 0);
    int rc = pthread_create(&thread, &attr, net_io_main, io);
    pthread_attr_destroy(&attr);
    pthread_sigmask(SIG_SETMASK, &old, nullptr);
    if (rc != 0) fatal("cannot start the network I/O thread: %s", strerror(rc));
    while (sem_wait(&g_started) != 0) {
    }
}

}  // namespace kiln::vmm
