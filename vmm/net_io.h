// kiln-vmm's I/O thread: moves virtio-net packets between the guest's
// queues and the backend while the vCPU thread runs the guest. It sleeps in
// poll() on two descriptors: the kick eventfd (the driver notified a queue,
// or set DRIVER_OK) and the backend (a packet arrived, or room to send
// again). Each wake-up is one pass over both queues under the transport's
// lock, so a burst costs one notification each way (EVENT_IDX decides when
// the driver kicks and when it wants an interrupt).
//
// Kicks arrive as ordinary MMIO exits that the vCPU thread turns into an
// eventfd write, and interrupts leave through the userspace I/O APIC
// (KVM_SIGNAL_MSI), rather than through KVM_IOEVENTFD and KVM_IRQFD:
// measured on kvm-pvm (a hello boot with --net user, 60 runs interleaved),
// registering one ioeventfd made the boot 2.3 -> 17.6 ms median (each
// registration and the teardown wait for an expedited SRCU grace period,
// as the in-kernel irqchip's devices do) and one irqfd 2.3 -> 2.7 ms. With
// EVENT_IDX a burst costs one exit either way.
//
// Sending on the vCPU thread right at the kick was tried and measured worse
// (wrk, 30 connections over TAP: 21k -> 12k req/s): it re-arms the
// notification after every packet, so each packet costs a kick, where the
// I/O thread, running beside the vCPU, finds several queued per wake-up.
#pragma once

#include "virtio_mmio.h"
#include "virtio_net.h"

namespace kiln::vmm {

struct NetIo {
    VirtioMmio& transport;
    VirtioNet& net;
    NetBackend& backend;
    int kick_fd;
};

// Starts the thread (before seccomp: creating it needs clone and mmap). It
// blocks every signal, so host signals keep reaching the vCPU thread, whose
// KVM_RUN they must interrupt. Exits with a message when it cannot start.
void start_net_io(NetIo* io);

// After the guest ended: sends what is left on transmitq.
void flush_net_io(NetIo* io);

// --stats: "kiln-vmm net stats: tx_packets=N rx_packets=N dropped=N kicks=N
// interrupts=N io_passes=N" on stderr.
void print_net_stats(NetIo* io);

}  // namespace kiln::vmm
