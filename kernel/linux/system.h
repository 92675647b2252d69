// Handlers of system.cpp, listed in the process family's table
// (process.cpp): system information, resource limits, randomness,
// scheduling and usage.
#pragma once

#include "linux/syscall.h"

namespace kiln::sys {

int64_t sys_uname(const SyscallArgs& a);
int64_t sys_sethostname(const SyscallArgs& a);
int64_t sys_setdomainname(const SyscallArgs& a);
int64_t sys_prlimit64(const SyscallArgs& a);
int64_t sys_getrlimit(const SyscallArgs& a);
int64_t sys_setrlimit(const SyscallArgs& a);
int64_t sys_sysinfo(const SyscallArgs& a);
int64_t sys_getrandom(const SyscallArgs& a);
int64_t sys_sched_getaffinity(const SyscallArgs& a);
int64_t sys_sched_setaffinity(const SyscallArgs& a);
int64_t sys_sched_yield(const SyscallArgs& a);
int64_t sys_sched_getscheduler(const SyscallArgs& a);
int64_t sys_sched_getparam(const SyscallArgs& a);
int64_t sys_sched_get_priority_max(const SyscallArgs& a);
int64_t sys_sched_get_priority_min(const SyscallArgs& a);
int64_t sys_getcpu(const SyscallArgs& a);
int64_t sys_times(const SyscallArgs& a);
int64_t sys_getrusage(const SyscallArgs& a);
int64_t sys_getpriority(const SyscallArgs& a);
int64_t sys_setpriority(const SyscallArgs& a);
int64_t sys_ioprio_get(const SyscallArgs& a);
int64_t sys_ioprio_set(const SyscallArgs& a);

}  // namespace kiln::sys
