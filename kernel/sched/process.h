// The running application: one process; its threads are sched/thread.h
// (signal_mask here is the running thread's, swapped on a switch). Subsystems keep their per-process state
// here: the address space (mm), open files and working directory (fs),
// signal dispositions (linux/signal). Fields are owned by the subsystem
// that names them.
#pragma once

#include <stdint.h>

#include "linux/process_state.h"

namespace kiln::mm {
class UserAddressSpace;
}
namespace kiln::fs {
class FdTable;
struct FsContext;
}

namespace kiln::sched {

struct SignalAction {
    uint64_t handler;  // SIG_DFL 0, SIG_IGN 1, or a user address
    uint64_t flags;
    uint64_t restorer;
    uint64_t mask;
};

struct Process {
    int32_t pid = 1;
    int32_t tid = 1;
    int32_t ppid = 0;
    uint32_t uid = 0, gid = 0, euid = 0, egid = 0;
    uint32_t umask = 022;

    mm::UserAddressSpace* vm = nullptr;  // mm/vm.h
    fs::FdTable* files = nullptr;        // fs/fd_table.h
    fs::FsContext* fs = nullptr;         // cwd and root (fs/vfs.h)

    uint64_t clear_child_tid = 0;  // set_tid_address
    uint64_t signal_mask = 0;      // blocked signals (bit n-1 for signal n)
    SignalAction signal_actions[64] = {};

    char exe_path[256] = {};  // /proc/self/exe

    sys::ProcessState posix;  // limits, prctl, more ids and signal state (linux/)
};

// The process the current system call or fault belongs to.
Process& current();

// Run by exit_process before the VM ends (the network service registers
// one: it lets peers acknowledge what the program last sent). One hook.
void set_exit_hook(void (*hook)());

// kiln.stats: exit_process prints halts, timer interrupts and uptime.
void set_report_stats(bool on);

// Ends the application (and the VM) with a shell-style status.
[[noreturn]] void exit_process(int status);

// Ends the application as a fatal signal would: prints a report naming the
// signal (and `why`) on the kernel log and exits with 128 + sig, the status
// a shell shows for it.
[[noreturn]] void die_of_signal(int sig, const char* why);

// "SIGSEGV" for 11, and so on; "SIG?" for unknown numbers.
const char* signal_name(int sig);

}  // namespace kiln::sched
