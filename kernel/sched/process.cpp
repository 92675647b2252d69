#include "sched/process.h"

#include "arch/x86_64/arch.h"
#include "klog.h"

namespace kiln::sched {
namespace {
Process the_process;
}

Process& current() { return the_process; }

[[noreturn]] void exit_process(int status) { arch::shutdown(status & 0xff); }

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
