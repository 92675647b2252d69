// The kernel's network service (kernel only): the one Stack, the NIC it
// is attached to, and the deferred work that keeps it running — frames the
// NIC received, the stack's timers — done in system-call context, never in
// an interrupt handler (socket watchers feed epoll's lists, which only
// system calls touch).
//
// Command line (read once at boot by service_init):
//   kiln.net=dhcp                          DHCPv4 (+ SLAAC) on the NIC; the
//                                          default when a NIC is present
//   kiln.net=none                          leave the NIC unconfigured
//   kiln.ip=ADDR/PREFIX[,GATEWAY[,DNS]]    static IPv4, e.g.
//                                          kiln.ip=10.0.2.15/24,10.0.2.2,10.0.2.3
//   kiln.ip6=ADDR/PREFIX[,GATEWAY]         static IPv6, e.g.
//                                          kiln.ip6=fd00::15/64,fd00::1
//   kiln.net.lazy                          bring the NIC up at the first
//                                          socket(), not at boot: free for
//                                          programs without sockets, but
//                                          nothing answers ARP or ping
//                                          before (kiln-vmm's user network
//                                          reaches a guest only through a
//                                          listening socket anyway)
// A static kiln.ip replaces DHCP; /etc/resolv.conf gets the DNS server
// (static: at boot, before the program reads it; DHCP: when the lease
// comes). Without kiln.net.lazy a NIC comes up at boot (its ~30 register
// accesses are VM exits, ~0.7 ms on kvm-pvm) and DHCP runs in the
// background; with it, the first socket(AF_INET/AF_INET6) brings it up
// and, with DHCP, waits up to 3 s for the lease. Without a NIC the stack
// is created on the first such socket and has loopback only (127.0.0.1,
// ::1).
#pragma once

#include <stdint.h>

#include "net/api.h"
#include "sched/wait.h"

namespace kiln::net {

// The stack, created on first use (bringing a lazy NIC up); nullptr when
// out of memory.
Stack* stack();

// Runs the stack's deferred work: received frames, timers that are due,
// and re-arms the one-shot timer for next_deadline(). Cheap when there is
// nothing to do. System-call context only.
void service_run();

// Woken (from interrupt context) when deferred work is due: a NIC
// interrupt or a stack timer. A wait whose readiness the network may
// change lists it, so that it wakes to run service_run() (through
// deliver_deferred_notifications) even once wake_all() wakes only a
// queue's own waiters.
sched::WaitQueue& service_queue();

// Whether something outside the process can change a socket's readiness
// by itself (a NIC, or a stack timer): a wait on one is not a deadlock.
bool service_wakes();

// Boot: writes a static DNS server to /etc/resolv.conf and, unless
// kiln.net.lazy, brings a NIC up (above).
void service_init(const char* cmdline, uint64_t boot_flags);

// Calls into the stack happen with interrupts masked and the stack's idea
// of now set: one of these around each.
class StackCall {
public:
    StackCall();
    ~StackCall();
    StackCall(const StackCall&) = delete;
    StackCall& operator=(const StackCall&) = delete;

private:
    bool was_enabled_;
};

}  // namespace kiln::net
