// System information and resources: uname, host and domain names, resource
// limits, sysinfo, getrandom, CPU affinity and scheduling (one CPU, the
// normal policy), times and usage, nice and I/O priorities. Listed in the
// process family's table.
#include "linux/system.h"

#include "sched/thread.h"

#include "arch/x86_64/clock.h"
#include "dev/random.h"
#include "kernel.h"
#include "kiln/cmdline.h"
#include "linux/getrandom.h"
#include "linux/rlimit.h"
#include "linux/timespec.h"
#include "linux/user.h"
#include "linux/utsname.h"
#include "mm/memory.h"
#include "sched/process.h"

namespace kiln::sys {
namespace {

bool is_self_pid(int64_t pid) {
    return pid == 0 || pid == sched::current().pid;
}
bool privileged() {
    return sched::current().euid == 0;
}

// ---- names ----

// The host and domain names, set at boot from `kiln.hostname=` and by
// sethostname/setdomainname; one UTS namespace for the one process.
struct UtsNames {
    char host[kHostNameMax + 1];
    size_t host_len;
    char domain[kHostNameMax + 1];
    size_t domain_len;
    bool ready;
};
UtsNames uts;

UtsNames& names() {
    if (!uts.ready) {
        Span<const char> v;
        if (cmdline_get(boot().cmdline, "kiln.hostname", &v) && v.size() > 0) {
            uts.host_len = v.size() < kHostNameMax ? v.size() : kHostNameMax;
            for (size_t i = 0; i < uts.host_len; i++) uts.host[i] = v[i];
        } else {
            uts.host_len = 4;
            for (size_t i = 0; i < 4; i++) uts.host[i] = "kiln"[i];
        }
        uts.ready = true;
    }
    return uts;
}

int64_t set_name(uint64_t addr, uint64_t len_arg, char* out, size_t* out_len) {
    const int64_t len = static_cast<int32_t>(len_arg);
    if (!privileged()) return errno_result(Errno::kEPERM);
    if (len < 0 || static_cast<uint64_t>(len) > kHostNameMax) return errno_result(Errno::kEINVAL);
    char buf[kHostNameMax];
    if (auto r = copy_from_user(buf, addr, static_cast<size_t>(len)); !r.ok()) {
        return errno_result(r.error());
    }
    for (int64_t i = 0; i < len; i++) out[i] = buf[i];
    *out_len = static_cast<size_t>(len);
    return 0;
}

// ---- sysinfo ----

struct KernelSysinfo {  // struct sysinfo (x86-64)
    int64_t uptime;
    uint64_t loads[3];
    uint64_t totalram;
    uint64_t freeram;
    uint64_t sharedram;
    uint64_t bufferram;
    uint64_t totalswap;
    uint64_t freeswap;
    uint16_t procs;
    uint16_t pad;
    uint32_t pad2;
    uint64_t totalhigh;
    uint64_t freehigh;
    uint32_t mem_unit;
    uint32_t pad3;
};
static_assert(sizeof(KernelSysinfo) == 112);

// ---- usage ----

constexpr uint64_t kUserHz = 100;  // clock_t ticks (sysconf(_SC_CLK_TCK))

struct KernelTms {  // struct tms
    int64_t tms_utime;
    int64_t tms_stime;
    int64_t tms_cutime;
    int64_t tms_cstime;
};
static_assert(sizeof(KernelTms) == 32);

struct KernelRusage {  // struct rusage
    KernelTimeval ru_utime;
    KernelTimeval ru_stime;
    int64_t ru_maxrss;  // KiB
    int64_t rest[13];   // ixrss ... nivcsw
};
static_assert(sizeof(KernelRusage) == 144);

constexpr int kRusageSelf = 0;
constexpr int kRusageChildren = -1;
constexpr int kRusageThread = 1;

// ---- priorities ----

constexpr int kPrioProcess = 0;
constexpr int kPrioPgrp = 1;
constexpr int kPrioUser = 2;
constexpr int kIoprioWhoProcess = 1;
constexpr int kIoprioWhoPgrp = 2;
constexpr int kIoprioWhoUser = 3;

// Whether (which, who) of getpriority/setpriority names this process:
// EINVAL for an unknown `which`, ESRCH for anyone else.
Result<void> priority_target(int which, int64_t who, int process, int pgrp, int user) {
    const sched::Process& p = sched::current();
    if (which == process) return who == 0 || who == p.pid ? Result<void>{} : Error(Errno::kESRCH);
    if (which == pgrp) {
        return who == 0 || who == p.posix.pgid ? Result<void>{} : Error(Errno::kESRCH);
    }
    if (which == user) return who == 0 || who == p.uid ? Result<void>{} : Error(Errno::kESRCH);
    return Error(Errno::kEINVAL);
}

}  // namespace

int64_t sys_uname(const SyscallArgs& a) {
    const UtsNames& n = names();
    NewUtsname u;
    fill_utsname(&u, n.host, n.host_len);
    for (size_t i = 0; i < n.domain_len; i++) u.domainname[i] = n.domain[i];
    if (n.domain_len > 0) u.domainname[n.domain_len] = '\0';
    return to_syscall_result(write_user(a.arg[0], u));
}

int64_t sys_sethostname(const SyscallArgs& a) {
    UtsNames& n = names();
    return set_name(a.arg[0], a.arg[1], n.host, &n.host_len);
}

int64_t sys_setdomainname(const SyscallArgs& a) {
    UtsNames& n = names();
    return set_name(a.arg[0], a.arg[1], n.domain, &n.domain_len);
}

// prlimit64(pid, resource, new, old): the old limits are written only when
// the change (if any) succeeded, as Linux does.
int64_t sys_prlimit64(const SyscallArgs& a) {
    const int resource = static_cast<int>(a.arg[1]);
    Rlimit64 new_limit;
    if (a.arg[2]) {
        auto r = read_user<Rlimit64>(a.arg[2]);
        if (!r.ok()) return errno_result(r.error());
        new_limit = r.value();
    }
    if (!is_self_pid(static_cast<int32_t>(a.arg[0]))) return errno_result(Errno::kESRCH);
    ResourceLimits& limits = sched::current().posix.limits;
    auto old = limits.get(resource);
    if (!old.ok()) return errno_result(old.error());
    if (a.arg[2]) {
        if (auto r = limits.set(resource, new_limit, privileged()); !r.ok()) {
            return errno_result(r.error());
        }
    }
    if (a.arg[3]) return to_syscall_result(write_user(a.arg[3], old.value()));
    return 0;
}

int64_t sys_getrlimit(const SyscallArgs& a) {
    return sys_prlimit64(SyscallArgs{{0, a.arg[0], 0, a.arg[1], 0, 0}});
}

int64_t sys_setrlimit(const SyscallArgs& a) {
    return sys_prlimit64(SyscallArgs{{0, a.arg[0], a.arg[1], 0, 0, 0}});
}

int64_t sys_sysinfo(const SyscallArgs& a) {
    KernelSysinfo info = {};
    const uint64_t now = arch::monotonic_ns();
    // Linux rounds the uptime up to whole seconds.
    info.uptime = static_cast<int64_t>(now / kNsPerSec + (now % kNsPerSec ? 1 : 0));
    const mm::FrameAllocator& frames = mm::frames();
    info.totalram = frames.total_pages() * mm::kPageSize;
    info.freeram = frames.free_pages() * mm::kPageSize;
    info.procs = 1;
    info.mem_unit = 1;
    return to_syscall_result(write_user(a.arg[0], info));
}

int64_t sys_getrandom(const SyscallArgs& a) {
    if (auto r = check_getrandom_flags(static_cast<uint32_t>(a.arg[2])); !r.ok()) {
        return errno_result(r.error());
    }
    return to_syscall_result(getrandom_chunked(
        a.arg[0], a.arg[1], [](void* buf, size_t n) { dev::random_bytes(buf, n); },
        [](uint64_t dst, const void* src, size_t n) { return copy_to_user(dst, src, n); }));
}

// One CPU. Linux answers EINVAL when the mask cannot hold every CPU or is
// not a whole number of longs, and returns the bytes it wrote.
int64_t sys_sched_getaffinity(const SyscallArgs& a) {
    const uint64_t len = a.arg[1];
    if (len == 0 || len % sizeof(uint64_t) != 0) return errno_result(Errno::kEINVAL);
    if (!is_self_pid(static_cast<int32_t>(a.arg[0]))) return errno_result(Errno::kESRCH);
    const uint64_t mask = 1;
    if (auto r = write_user(a.arg[2], mask); !r.ok()) return errno_result(r.error());
    return sizeof(mask);
}

int64_t sys_sched_setaffinity(const SyscallArgs& a) {
    if (!is_self_pid(static_cast<int32_t>(a.arg[0]))) return errno_result(Errno::kESRCH);
    uint64_t mask = 0;
    const size_t n = a.arg[1] < sizeof(mask) ? a.arg[1] : sizeof(mask);
    if (auto r = copy_from_user(&mask, a.arg[2], n); !r.ok()) return errno_result(r.error());
    // The new mask is cut to the CPUs that exist; none left is EINVAL.
    return (mask & 1) ? 0 : errno_result(Errno::kEINVAL);
}

int64_t sys_sched_yield(const SyscallArgs&) {
    sched::yield();
    return 0;
}

int64_t sys_sched_getscheduler(const SyscallArgs& a) {
    const int32_t pid = static_cast<int32_t>(a.arg[0]);
    if (pid < 0) return errno_result(Errno::kEINVAL);
    if (!is_self_pid(pid)) return errno_result(Errno::kESRCH);
    return 0;  // SCHED_OTHER
}

int64_t sys_sched_getparam(const SyscallArgs& a) {
    const int32_t pid = static_cast<int32_t>(a.arg[0]);
    if (pid < 0 || a.arg[1] == 0) return errno_result(Errno::kEINVAL);
    if (!is_self_pid(pid)) return errno_result(Errno::kESRCH);
    return to_syscall_result(write_user<int32_t>(a.arg[1], 0));  // sched_priority
}

namespace {
// SCHED_FIFO (1) and SCHED_RR (2) have priorities 1..99; SCHED_OTHER (0),
// SCHED_BATCH (3), SCHED_IDLE (5) and SCHED_DEADLINE (6) only 0.
int64_t sched_priority_bound(uint64_t policy, int64_t realtime_bound) {
    switch (policy) {
        case 1:
        case 2:
            return realtime_bound;
        case 0:
        case 3:
        case 5:
        case 6:
            return 0;
        default:
            return errno_result(Errno::kEINVAL);
    }
}
}  // namespace

int64_t sys_sched_get_priority_max(const SyscallArgs& a) {
    return sched_priority_bound(a.arg[0], 99);
}
int64_t sys_sched_get_priority_min(const SyscallArgs& a) {
    return sched_priority_bound(a.arg[0], 1);
}

int64_t sys_getcpu(const SyscallArgs& a) {
    if (a.arg[0]) {
        if (auto r = write_user<uint32_t>(a.arg[0], 0); !r.ok()) return errno_result(r.error());
    }
    if (a.arg[1]) return to_syscall_result(write_user<uint32_t>(a.arg[1], 0));
    return 0;
}

// CPU time is time since boot (see clocks.h), all of it user time.
int64_t sys_times(const SyscallArgs& a) {
    const int64_t ticks = static_cast<int64_t>(arch::monotonic_ns() / (kNsPerSec / kUserHz));
    if (a.arg[0]) {
        KernelTms t = {ticks, 0, 0, 0};
        if (auto r = write_user(a.arg[0], t); !r.ok()) return errno_result(r.error());
    }
    return ticks;
}

int64_t sys_getrusage(const SyscallArgs& a) {
    const int who = static_cast<int>(a.arg[0]);
    KernelRusage u = {};
    if (who == kRusageSelf || who == kRusageThread) {
        u.ru_utime = ns_to_timeval(arch::monotonic_ns());
        const mm::FrameAllocator& frames = mm::frames();
        // FIXME: the memory in use by the whole VM, until the address space
        // counts the app's resident pages.
        u.ru_maxrss = static_cast<int64_t>((frames.total_pages() - frames.free_pages()) *
                                           mm::kPageSize / 1024);
    } else if (who != kRusageChildren) {
        return errno_result(Errno::kEINVAL);
    }
    return to_syscall_result(write_user(a.arg[1], u));
}

// The syscall returns 20 - nice (1..40), so that no value looks like an
// error; the C library turns it back.
int64_t sys_getpriority(const SyscallArgs& a) {
    auto r = priority_target(static_cast<int>(a.arg[0]), static_cast<int32_t>(a.arg[1]),
                             kPrioProcess, kPrioPgrp, kPrioUser);
    if (!r.ok()) return errno_result(r.error());
    return 20 - sched::current().posix.nice;
}

int64_t sys_setpriority(const SyscallArgs& a) {
    auto r = priority_target(static_cast<int>(a.arg[0]), static_cast<int32_t>(a.arg[1]),
                             kPrioProcess, kPrioPgrp, kPrioUser);
    if (!r.ok()) return errno_result(r.error());
    int32_t nice = static_cast<int32_t>(a.arg[2]);
    if (nice < -20) nice = -20;
    if (nice > 19) nice = 19;
    ProcessState& s = sched::current().posix;
    // Raising the priority needs CAP_SYS_NICE (root) or RLIMIT_NICE room.
    const uint64_t nice_limit = s.limits.get(kRlimitNice).value().rlim_cur;
    if (nice < s.nice && !privileged() && static_cast<uint64_t>(20 - nice) > nice_limit) {
        return errno_result(Errno::kEACCES);
    }
    s.nice = nice;
    return 0;
}

int64_t sys_ioprio_get(const SyscallArgs& a) {
    auto r = priority_target(static_cast<int>(a.arg[0]), static_cast<int32_t>(a.arg[1]),
                             kIoprioWhoProcess, kIoprioWhoPgrp, kIoprioWhoUser);
    if (!r.ok()) return errno_result(r.error());
    return sched::current().posix.ioprio;
}

int64_t sys_ioprio_set(const SyscallArgs& a) {
    auto r = priority_target(static_cast<int>(a.arg[0]), static_cast<int32_t>(a.arg[1]),
                             kIoprioWhoProcess, kIoprioWhoPgrp, kIoprioWhoUser);
    if (!r.ok()) return errno_result(r.error());
    // IOPRIO_PRIO_VALUE(class, data): class in bits 13-15 (NONE 0, RT 1,
    // BE 2, IDLE 3), data 0..7 for RT and BE.
    const uint32_t prio = static_cast<uint32_t>(a.arg[2]);
    const uint32_t cls = (prio >> 13) & 7;
    const uint32_t data = prio & 0x1fff;
    if (cls > 3 || ((cls == 1 || cls == 2) && data >= 8) || (cls == 0 && data != 0)) {
        return errno_result(Errno::kEINVAL);
    }
    if (cls == 1 && !privileged()) return errno_result(Errno::kEPERM);
    sched::current().posix.ioprio = prio;
    return 0;
}

}  // namespace kiln::sys
