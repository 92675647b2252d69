// The kernel's network service (service.h).
#include "net/service.h"

#include "abi/boot.h"
#include "arch/x86_64/arch.h"
#include "arch/x86_64/clock.h"
#include "dev/virtio_net.h"
#include "fs/tree.h"
#include "fs/vfs.h"
#include "kiln/cmdline.h"
#include "klog.h"
#include "mm/new.h"
#include "net/netconf.h"
#include "fs/file.h"
#include "sched/process.h"
#include "sched/timer.h"
#include "sched/wait.h"

namespace kiln::net {
namespace {

Stack* g_stack = nullptr;
bool g_create_failed = false;
const char* g_lazy_cmdline = nullptr;  // kiln.net.lazy: the NIC is not up yet
dev::VirtioNet* g_nic = nullptr;
Interface* g_iface = nullptr;
bool g_dhcp = false;              // waiting for a lease to write resolv.conf
sched::Timer g_timer;             // armed for the stack's next_deadline()
sched::WaitQueue g_queue;         // woken when deferred work is due
volatile bool g_nic_due = false;  // the NIC interrupted since the last run

void on_timer(sched::Timer*) {
    g_queue.wake_all();
}

// Interrupt context: the frames are taken by the next service_run.
void on_nic_interrupt() {
    g_nic_due = true;
    g_queue.wake_all();
}

void arm_timer(uint64_t deadline) {
    if (deadline == ~uint64_t{0}) {
        if (g_timer.armed) sched::timer_cancel(&g_timer);
        return;
    }
    if (g_timer.armed && g_timer.deadline_ns == deadline) return;
    sched::timer_start(&g_timer, deadline, on_timer);
}

void drain_at_exit();
void bring_up_nic(const char* cmdline, bool wait_for_lease);

void deliver(void*, Span<const uint8_t> frame, bool csum_valid) {
    g_stack->receive(g_iface, frame, csum_valid, arch::monotonic_ns());
}

// /etc/resolv.conf with the lease's (or the command line's) DNS server.
void write_resolv_conf(const uint8_t dns[4]) {
    if (dns[0] == 0 && dns[1] == 0 && dns[2] == 0 && dns[3] == 0) return;
    char text[64];
    size_t n = format_resolv_conf(dns, text, sizeof text);
    auto etc = fs::lookup_path("/etc");
    if (!etc.ok()) return;
    fs::Directory* dir = (*etc)->as_directory();
    if (dir != nullptr) {
        auto* f = mm::make<fs::RegularFile>();
        if (f != nullptr) {
            fs::init_meta(f, 0644);
            if (f->write_at(0, text, n).ok())
                (void)dir->replace(Span<const char>("resolv.conf", 11), f);
            f->release();
        }
    }
    (*etc)->release();
}

void configure(const char* cmdline) {
    Span<const char> v;
    bool dhcp = true;
    if (cmdline_get(cmdline, "kiln.net", &v)) {
        if (cmdline_key_equal(v, "none")) {
            dhcp = false;
        } else if (!cmdline_key_equal(v, "dhcp")) {
            klog::warn("kiln: kiln.net=%.*s is not dhcp or none; using dhcp", int(v.size()),
                       v.data());
        }
    }
    StackCall c;
    if (cmdline_get(cmdline, "kiln.ip", &v)) {
        auto cfg = parse_ipv4_config(v);
        if (!cfg.ok()) {
            klog::error("kiln: kiln.ip=%.*s is not ADDR/PREFIX[,GATEWAY[,DNS]]", int(v.size()),
                        v.data());
        } else if (auto r = g_stack->configure_ipv4(g_iface, *cfg); !r.ok()) {
            klog::error("kiln: kiln.ip: %s", errno_name(r.error()));
        } else {
            dhcp = false;  // resolv.conf was written at boot
        }
    }
    if (cmdline_get(cmdline, "kiln.ip6", &v)) {
        auto cfg = parse_ipv6_config(v);
        if (!cfg.ok()) {
            klog::error("kiln: kiln.ip6=%.*s is not ADDR/PREFIX[,GATEWAY]", int(v.size()),
                        v.data());
        } else if (auto r = g_stack->configure_ipv6(g_iface, *cfg); !r.ok()) {
            klog::error("kiln: kiln.ip6: %s", errno_name(r.error()));
        }
    }
    if (dhcp) {
        if (auto r = g_stack->start_autoconfig(g_iface, arch::monotonic_ns()); !r.ok()) {
            klog::error("kiln: DHCP: %s", errno_name(r.error()));
        } else {
            g_dhcp = true;
        }
    }
}

constexpr uint64_t kLeaseWaitNs = 3'000'000'000;

// Finds the virtio-net device; when there is one, attaches it to the
// stack (made now if need be) and configures it. wait_for_lease:
// a lazy start from the first socket waits (a bounded time) for DHCP, so
// that a connect right after socket() finds the network configured, as it
// would on a host; at boot the lease comes in the background.
void bring_up_nic(const char* cmdline, bool wait_for_lease) {
    g_nic = dev::VirtioNet::probe(cmdline, on_nic_interrupt);
    if (g_nic == nullptr) return;  // loopback only
    if (stack() == nullptr) return;
    auto iface = [&] {
        StackCall c;
        return g_stack->attach(g_nic);
    }();
    if (!iface.ok()) {
        klog::error("kiln: cannot attach virtio-net to the stack: %s", errno_name(iface.error()));
        return;
    }
    g_iface = *iface;
    sched::set_exit_hook(drain_at_exit);
    configure(cmdline);
    g_nic_due = true;  // frames may have come in during set-up
    service_run();
    if (!g_dhcp || !wait_for_lease) return;
    sched::WaitQueue* queues[] = {&g_queue};
    sched::WaitRequest req;
    req.queues = queues;
    req.queue_count = 1;
    req.deadline_ns = arch::monotonic_ns() + kLeaseWaitNs;
    req.what = "DHCP";
    auto st = sched::wait(req, [] {
        service_run();
        return !g_dhcp;
    });
    if (st != sched::WaitStatus::kReady)
        klog::warn(
            "kiln: no DHCP lease within 3 s; going on without an address (it may still come)");
}

// Linux closes an exiting process's sockets and goes on sending what they
// hold; here the VM ends with the program, so exit waits (at most this
// long) for the peers to acknowledge the last data and FINs — a client's
// request or a server's last response written just before exit.
constexpr uint64_t kExitDrainNs = 2'000'000'000;

void drain_at_exit() {
    if (g_stack == nullptr || g_nic == nullptr) return;
    // Every descriptor closes first, as at a process's exit: connections
    // send their FIN (or RST, with unread data left).
    if (fs::FdTable* files = sched::current().files) files->close_range(0, ~0u, false);
    arch::IrqGuard masked;
    const uint64_t deadline = arch::monotonic_ns() + kExitDrainNs;
    sched::Timer limit;  // wakes the halt below at the deadline
    sched::timer_start(&limit, deadline, [](sched::Timer*) {});
    for (;;) {
        service_run();  // frames in, timers due, the stack's timer re-armed
        bool pending;
        {
            StackCall c;
            pending = g_stack->output_pending();
        }
        if (!pending || arch::monotonic_ns() >= deadline) break;
        // Other threads do not run again: only interrupts (the NIC, the
        // stack's timer, the limit) end this halt.
        arch::wait_for_interrupt();
    }
    sched::timer_cancel(&limit);
}

}  // namespace

StackCall::StackCall() : was_enabled_(arch::irq_enabled()) {
    arch::irq_disable();
    if (g_stack == nullptr) return;
    const uint64_t now = arch::monotonic_ns();
    g_stack->set_now(now);
    // Work that came due first (frames the NIC holds, timers), so that a
    // call sees what arrived while the program was not waiting on the
    // network (a recv(MSG_DONTWAIT) after a sleep finds the datagram).
    if (g_nic_due || g_stack->next_deadline() <= now) service_run();
}

StackCall::~StackCall() {
    // A burst of frames the call queued costs one kick.
    if (g_nic != nullptr) g_nic->flush();
    if (was_enabled_) arch::irq_enable();
}

Stack* stack() {
    if (g_stack != nullptr || g_create_failed) return g_stack;
    g_stack = Stack::create();
    if (g_stack == nullptr) {
        g_create_failed = true;
        klog::error("kiln: cannot create the network stack: out of memory");
        return nullptr;
    }
    if (g_lazy_cmdline != nullptr) {
        // kiln.net.lazy: the NIC comes up now, at the first socket.
        const char* cmdline = g_lazy_cmdline;
        g_lazy_cmdline = nullptr;
        bring_up_nic(cmdline, true);
    }
    return g_stack;
}

void service_run() {
    if (g_stack == nullptr) return;
    arch::IrqGuard guard;
    uint64_t now = arch::monotonic_ns();
    g_stack->set_now(now);
    if (g_nic != nullptr && g_nic_due) {
        g_nic_due = false;
        g_nic->poll(deliver, nullptr);
        now = arch::monotonic_ns();
    }
    // Work may queue more work due at once (loopback hands frames to
    // itself): a few rounds, then the timer takes over.
    for (int round = 0; round < 8 && g_stack->next_deadline() <= now; round++) {
        g_stack->poll(now);
        now = arch::monotonic_ns();
    }
    if (g_nic != nullptr) g_nic->flush();
    if (g_dhcp) {
        Ipv4Config cfg;
        if (g_stack->ipv4_config(g_iface, &cfg)) {
            g_dhcp = false;
            klog::info("kiln: DHCP lease %u.%u.%u.%u/%u", cfg.addr[0], cfg.addr[1], cfg.addr[2],
                       cfg.addr[3], cfg.prefix_len);
            write_resolv_conf(cfg.dns);
        }
    }
    arm_timer(g_stack->next_deadline());
}

sched::WaitQueue& service_queue() {
    return g_queue;
}

bool service_wakes() {
    return g_nic != nullptr || g_timer.armed;
}

void service_init(const char* cmdline, uint64_t boot_flags) {
    // A static DNS server is known now: glibc and musl read resolv.conf
    // before they open their first socket. (A DHCP lease's is written
    // when the lease comes.)
    Span<const char> v;
    if (cmdline_get(cmdline, "kiln.ip", &v)) {
        auto cfg = parse_ipv4_config(v);
        if (cfg.ok()) write_resolv_conf(cfg->dns);
    }
    // With kiln.net.lazy, programs that never open a socket pay nothing for
    // the NIC: probing and starting it is ~30 register accesses, each a VM
    // exit (~20 us on kvm-pvm), and the monitor starts its user-mode
    // network only when the driver does.
    if (cmdline_flag(cmdline, "kiln.net.lazy")) {
        g_lazy_cmdline = cmdline;
        return;
    }
    // kiln-vmm puts its virtio-console in slot 0 and a network device, when
    // it has one, in slot 1 (lib/abi/boot.h): with a single device there is
    // no NIC, and probing would cost a register read (an exit) per boot.
    if (boot_flags & abi::kBootFlagConsolePort) {
        int devices = 0;
        VirtioMmioDevices list(cmdline);
        while (list.next()) devices++;
        if (devices < 2) return;
    }
    bring_up_nic(cmdline, false);
}

}  // namespace kiln::net
