// The kernel's network service (service.h).
#include "net/service.h"

#include "arch/x86_64/arch.h"
#include "arch/x86_64/clock.h"
#include "klog.h"
#include "sched/timer.h"
#include "sched/wait.h"

// FIXME(net): a weak reference while the stack lands on main in stages;
// once Stack::create is always linked this becomes a plain call.
extern "C" kiln::net::Stack* kiln_stack_create_if_built() __asm__("_ZN4kiln3net5Stack6createEv")
    __attribute__((weak));

namespace kiln::net {
namespace {

Stack* g_stack = nullptr;
bool g_create_failed = false;
sched::Timer g_timer;      // armed for the stack's next_deadline()
sched::WaitQueue g_queue;  // woken when deferred work is due
volatile bool g_due = false;

void on_timer(sched::Timer*) {
    g_due = true;
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

}  // namespace

StackCall::StackCall() : was_enabled_(arch::irq_enabled()) {
    arch::irq_disable();
    if (g_stack != nullptr) g_stack->set_now(arch::monotonic_ns());
}

StackCall::~StackCall() {
    if (was_enabled_) arch::irq_enable();
}

Stack* stack() {
    if (g_stack != nullptr || g_create_failed) return g_stack;
    if (kiln_stack_create_if_built == nullptr) {
        g_create_failed = true;
        klog::warn("kiln: this kernel has no TCP/IP stack; AF_INET/AF_INET6 sockets fail with EAFNOSUPPORT");
        return nullptr;
    }
    g_stack = kiln_stack_create_if_built();
    if (g_stack == nullptr) {
        g_create_failed = true;
        klog::error("kiln: cannot create the network stack: out of memory");
    }
    return g_stack;
}

void service_run() {
    if (g_stack == nullptr) return;
    arch::IrqGuard guard;
    g_due = false;
    uint64_t now = arch::monotonic_ns();
    // Work may queue more work due at once (loopback hands frames to
    // itself): a few rounds, then the timer takes over.
    for (int round = 0; round < 8 && g_stack->next_deadline() <= now; round++) {
        g_stack->poll(now);
        now = arch::monotonic_ns();
    }
    arm_timer(g_stack->next_deadline());
}

bool service_wakes() { return g_timer.armed; }

void service_init(const char*) {
    // FIXME(net): the virtio-net driver attaches here (kernel/dev/virtio_net).
}

}  // namespace kiln::net
