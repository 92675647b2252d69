#include "linux/host_signals.h"

#include "abi/boot.h"
#include "arch/x86_64/cpu.h"
#include "arch/x86_64/lapic.h"
#include "arch/x86_64/traps.h"
#include "linux/signal_delivery.h"
#include "linux/sigset.h"
#include "sched/process.h"
#include "sched/thread.h"

namespace kiln::sys {
namespace {

uint32_t read_port() {
    uint32_t v;
    asm volatile("inl %1, %0" : "=a"(v) : "Nd"(abi::kPortHostSignals));
    return v;
}

// Each host signal is sent to the process as kill(2) from outside would
// (si_code SI_USER, pid 0): the thread that takes it is chosen then, so a
// blocked call in that thread ends with EINTR.
void post(uint32_t set) {
    for (int sig = 1; sig <= 32; sig++) {
        if (!(set & (1u << (sig - 1)))) continue;
        SigInfo info = {};
        info.si_signo = sig;
        info.si_code = kSiUser;
        post_signal_info(info);
    }
}

void on_host_signal(arch::TrapFrame&) {
    arch::lapic_eoi();
    post(read_port());
}

}  // namespace

void init_host_signals(const BootInfo& boot) {
    if (!(boot.flags & abi::kBootFlagHostSignals)) return;
    arch::lapic_enable();
    arch::set_irq_handler(abi::kHostSignalVector, on_host_signal);
    post(read_port());  // the first read opts in; it may already carry signals
    // pause() and sigsuspend() now have something to wait for.
    set_external_signals(sigbit(kSigHup) | sigbit(kSigInt) | sigbit(kSigQuit) | sigbit(kSigTerm) |
                         sigbit(kSigUsr1) | sigbit(kSigUsr2));
}

}  // namespace kiln::sys
