#include "sched/process.h"

#include "arch/x86_64/arch.h"
#include "arch/x86_64/clock.h"
#include "arch/x86_64/lapic.h"
#include "dev/console.h"
#include "kiln/format.h"
#include "klog.h"

namespace kiln::sched {
namespace {
Process the_process;
bool report_stats = false;
void (*exit_hook)() = nullptr;

// kiln.stats: what the guest did while the program ran — how often the
// vCPU halted and the timer interrupted it (an idle program should take
// one halt and one timer interrupt per wake-up it asked for, no tick).
// On the program's stderr: one console write, where the kernel log (the
// UART) would cost a VM exit per byte and show in the counts it reports.
void print_stats() {
    char line[128];
    size_t n = format(line, sizeof(line), "kiln stats: uptime %lu ms, %lu halts, %lu timer interrupts\n",
                      arch::monotonic_ns() / 1000000, arch::halt_count(), arch::timer_interrupts());
    dev::console_write(dev::Stream::kStderr, line, n < sizeof(line) ? n : sizeof(line) - 1);
}
}  // namespace

void set_report_stats(bool on) { report_stats = on; }
void set_exit_hook(void (*hook)()) { exit_hook = hook; }

Process& current() { return the_process; }

[[noreturn]] void exit_process(int status) {
    if (void (*hook)() = exit_hook) {
        exit_hook = nullptr;  // once, even if the hook itself ends the process
        hook();
    }
    if (report_stats) print_stats();
    arch::shutdown(status & 0xff);
}

const char* signal_name(int sig) {
    static const char* const kNames[] = {
        "SIG0",    "SIGHUP",  "SIGINT",    "SIGQUIT", "SIGILL",    "SIGTRAP", "SIGABRT",
        "SIGBUS",  "SIGFPE",  "SIGKILL",   "SIGUSR1", "SIGSEGV",   "SIGUSR2", "SIGPIPE",
        "SIGALRM", "SIGTERM", "SIGSTKFLT", "SIGCHLD", "SIGCONT",   "SIGSTOP", "SIGTSTP",
        "SIGTTIN", "SIGTTOU", "SIGURG",    "SIGXCPU", "SIGXFSZ",   "SIGVTALRM", "SIGPROF",
        "SIGWINCH", "SIGIO",  "SIGPWR",    "SIGSYS"};
    if (sig >= 0 && sig < int(sizeof(kNames) / sizeof(kNames[0]))) return kNames[sig];
    return sig >= 34 && sig <= 64 ? "SIGRT" : "SIG?";
}

[[noreturn]] void die_of_signal(int sig, const char* why) {
    const char* exe = the_process.exe_path[0] ? the_process.exe_path : "the program";
    klog::error("kiln: %s killed by %s (signal %d)%s%s", exe, signal_name(sig), sig,
                why && *why ? ": " : "", why ? why : "");
    klog::error("kiln: exit status %d", 128 + sig);
    exit_process(128 + sig);
}

}  // namespace kiln::sched
