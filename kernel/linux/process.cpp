// The process family: exit, identity (ids, groups, sessions), thread
// bookkeeping (set_tid_address, robust lists), arch_prctl, prctl,
// personality and capabilities, clone for threads. One process: its pid,
// pgid and sid are 1, as for a container's first process; the first
// thread's tid is 1 and later threads count up.
// Resources and system information (uname, limits, getrandom, scheduling,
// usage) are in system.cpp and listed in this family's table too.
#include "sched/process.h"

#include <asm/prctl.h>
#include <linux/capability.h>
#include <linux/prctl.h>
#include <linux/sched.h>

#include "arch/x86_64/arch.h"
#include "klog.h"
#include "linux/credentials.h"
#include "linux/syscall.h"
#include "linux/system.h"
#include "linux/user.h"
#include "linux/signal_delivery.h"
#include "arch/x86_64/traps.h"
#include "sched/futex.h"
#include "sched/thread.h"

namespace kiln::sys {
namespace {

using sched::Process;

constexpr uint64_t kTaskSizeMax = kUserTop - 4096;  // TASK_SIZE_MAX
constexpr uint32_t kNgroupsMax = 65536;
// The last capability Linux 6.1 knows (CAP_CHECKPOINT_RESTORE).
constexpr uint32_t kCapLastCap = 40;
static_assert(CAP_LAST_CAP == kCapLastCap);

bool is_self_pid(int64_t pid) {
    return pid == 0 || pid == sched::current().pid;
}

// CAP_SETUID, CAP_SETGID and friends: held while the effective uid is 0.
bool privileged() {
    return sched::current().euid == 0;
}

// ---- exit ----

// One thread leaves: its clear_child_tid word becomes 0 and a joiner
// waiting on it is woken (pthread_join). The last thread ends the process.
int64_t sys_exit(const SyscallArgs& a) {
    if (sched::live_threads() == 1) sched::exit_process(static_cast<int>(a.arg[0] & 0xff));
    sched::Thread* t = sched::current_thread();
    if (t->clear_child_tid != 0) {
        (void)write_user<uint32_t>(t->clear_child_tid, 0);
        sched::futex_wake(t->clear_child_tid, 1, ~0u);
    }
    sched::exit_thread();
}

// ---- clone: threads only ----

// What glibc's and musl's pthread_create pass, and what may come with it.
constexpr uint64_t kThreadFlags =
    CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND | CLONE_THREAD;
constexpr uint64_t kThreadOptional = CLONE_SYSVSEM | CLONE_SETTLS | CLONE_PARENT_SETTID |
                                     CLONE_CHILD_CLEARTID | CLONE_CHILD_SETTID | CLONE_DETACHED;

int64_t clone_thread(uint64_t flags, uint64_t sp, uint64_t parent_tid, uint64_t child_tid,
                     uint64_t tls) {
    if ((flags & kThreadFlags) != kThreadFlags || (flags & ~(kThreadFlags | kThreadOptional | CSIGNAL))) {
        static bool reported = false;
        if (!reported) {
            reported = true;
            klog::warn(
                "kiln: clone with flags 0x%lx: kiln runs one process, so only threads "
                "(CLONE_VM|CLONE_FS|CLONE_FILES|CLONE_SIGHAND|CLONE_THREAD) are supported; ENOSYS",
                flags);
        }
        return errno_result(Errno::kENOSYS);
    }
    if (sp == 0) return errno_result(Errno::kEINVAL);
    arch::TrapFrame* f = syscall_frame();
    sched::Thread* t = sched::create_thread(*f, sp, (flags & CLONE_SETTLS) ? tls : arch::fs_base());
    if (t == nullptr) return errno_result(Errno::kENOMEM);
    if (flags & CLONE_CHILD_CLEARTID) t->clear_child_tid = child_tid;
    if (flags & CLONE_PARENT_SETTID) (void)write_user<uint32_t>(parent_tid, static_cast<uint32_t>(t->tid));
    if (flags & CLONE_CHILD_SETTID) (void)write_user<uint32_t>(child_tid, static_cast<uint32_t>(t->tid));
    sched::start_thread(t);
    return t->tid;
}

// clone(flags, newsp, parent_tid, child_tid, tls) — the x86-64 order.
int64_t sys_clone(const SyscallArgs& a) {
    return clone_thread(a.arg[0], a.arg[1], a.arg[2], a.arg[3], a.arg[4]);
}

struct CloneArgs {  // struct clone_args, CLONE_ARGS_SIZE_VER0 = 64
    uint64_t flags, pidfd, child_tid, parent_tid, exit_signal, stack, stack_size, tls;
};

int64_t sys_clone3(const SyscallArgs& a) {
    if (a.arg[1] < sizeof(CloneArgs) || a.arg[1] > 4096) return errno_result(Errno::kEINVAL);
    auto r = read_user<CloneArgs>(a.arg[0]);
    if (!r.ok()) return errno_result(r.error());
    const CloneArgs c = r.value();
    if (c.flags & CLONE_PIDFD) return errno_result(Errno::kENOSYS);
    if (c.stack == 0 || c.stack_size == 0) return errno_result(Errno::kEINVAL);
    return clone_thread(c.flags, c.stack + c.stack_size, c.parent_tid, c.child_tid, c.tls);
}

int64_t sys_exit_group(const SyscallArgs& a) {
    sched::exit_process(static_cast<int>(a.arg[0] & 0xff));
}

// ---- ids ----

int64_t sys_getpid(const SyscallArgs&) {
    return sched::current().pid;
}
int64_t sys_getppid(const SyscallArgs&) {
    return sched::current().ppid;
}
int64_t sys_gettid(const SyscallArgs&) {
    return sched::current_thread()->tid;
}
int64_t sys_getuid(const SyscallArgs&) {
    return sched::current().uid;
}
int64_t sys_geteuid(const SyscallArgs&) {
    return sched::current().euid;
}
int64_t sys_getgid(const SyscallArgs&) {
    return sched::current().gid;
}
int64_t sys_getegid(const SyscallArgs&) {
    return sched::current().egid;
}

IdSet user_ids(const Process& p) {
    return IdSet{p.uid, p.euid, p.posix.suid, p.posix.fsuid};
}
IdSet group_ids(const Process& p) {
    return IdSet{p.gid, p.egid, p.posix.sgid, p.posix.fsgid};
}
void set_user_ids(Process& p, const IdSet& ids) {
    p.uid = ids.real;
    p.euid = ids.effective;
    p.posix.suid = ids.saved;
    p.posix.fsuid = ids.fs;
}
void set_group_ids(Process& p, const IdSet& ids) {
    p.gid = ids.real;
    p.egid = ids.effective;
    p.posix.sgid = ids.saved;
    p.posix.fsgid = ids.fs;
}

Result<void> write_ids(const SyscallArgs& a, const IdSet& ids) {
    TRY(write_user<uint32_t>(a.arg[0], ids.real));
    TRY(write_user<uint32_t>(a.arg[1], ids.effective));
    return write_user<uint32_t>(a.arg[2], ids.saved);
}

int64_t sys_getresuid(const SyscallArgs& a) {
    return to_syscall_result(write_ids(a, user_ids(sched::current())));
}
int64_t sys_getresgid(const SyscallArgs& a) {
    return to_syscall_result(write_ids(a, group_ids(sched::current())));
}

uint32_t id_arg(uint64_t v) {
    return static_cast<uint32_t>(v);
}

int64_t update_uids(const Result<IdSet>& r) {
    if (!r.ok()) return errno_result(r.error());
    set_user_ids(sched::current(), r.value());
    return 0;
}
int64_t update_gids(const Result<IdSet>& r) {
    if (!r.ok()) return errno_result(r.error());
    set_group_ids(sched::current(), r.value());
    return 0;
}

int64_t sys_setuid(const SyscallArgs& a) {
    return update_uids(apply_setid(user_ids(sched::current()), id_arg(a.arg[0]), privileged()));
}
int64_t sys_setgid(const SyscallArgs& a) {
    return update_gids(apply_setid(group_ids(sched::current()), id_arg(a.arg[0]), privileged()));
}
int64_t sys_setreuid(const SyscallArgs& a) {
    return update_uids(apply_setreid(user_ids(sched::current()), id_arg(a.arg[0]), id_arg(a.arg[1]),
                                     privileged()));
}
int64_t sys_setregid(const SyscallArgs& a) {
    return update_gids(apply_setreid(group_ids(sched::current()), id_arg(a.arg[0]),
                                     id_arg(a.arg[1]), privileged()));
}
int64_t sys_setresuid(const SyscallArgs& a) {
    return update_uids(apply_setresid(user_ids(sched::current()), id_arg(a.arg[0]),
                                      id_arg(a.arg[1]), id_arg(a.arg[2]), privileged()));
}
int64_t sys_setresgid(const SyscallArgs& a) {
    return update_gids(apply_setresid(group_ids(sched::current()), id_arg(a.arg[0]),
                                      id_arg(a.arg[1]), id_arg(a.arg[2]), privileged()));
}
int64_t sys_setfsuid(const SyscallArgs& a) {
    Process& p = sched::current();
    IdSet n;
    uint32_t old = apply_setfsid(user_ids(p), id_arg(a.arg[0]), privileged(), &n);
    set_user_ids(p, n);
    return old;
}
int64_t sys_setfsgid(const SyscallArgs& a) {
    Process& p = sched::current();
    IdSet n;
    uint32_t old = apply_setfsid(group_ids(p), id_arg(a.arg[0]), privileged(), &n);
    set_group_ids(p, n);
    return old;
}

// getgroups(size, list): the count when size is 0, EINVAL when the list is
// too small.
int64_t sys_getgroups(const SyscallArgs& a) {
    const ProcessState& s = sched::current().posix;
    const int32_t size = static_cast<int32_t>(a.arg[0]);
    if (size < 0) return errno_result(Errno::kEINVAL);
    if (size == 0) return s.group_count;
    if (static_cast<uint32_t>(size) < s.group_count) return errno_result(Errno::kEINVAL);
    auto r = copy_to_user(a.arg[1], s.groups, s.group_count * sizeof(uint32_t));
    return r.ok() ? s.group_count : errno_result(r.error());
}

int64_t sys_setgroups(const SyscallArgs& a) {
    ProcessState& s = sched::current().posix;
    const int32_t size = static_cast<int32_t>(a.arg[0]);
    if (size < 0 || static_cast<uint32_t>(size) > kNgroupsMax) return errno_result(Errno::kEINVAL);
    if (!privileged()) return errno_result(Errno::kEPERM);
    // FIXME: kMaxGroups supplementary groups are kept, not NGROUPS_MAX.
    if (size > kMaxGroups) return errno_result(Errno::kENOMEM);
    uint32_t groups[kMaxGroups];
    if (auto r = copy_from_user(groups, a.arg[1], size * sizeof(uint32_t)); !r.ok()) {
        return errno_result(r.error());
    }
    for (int32_t i = 0; i < size; i++) s.groups[i] = groups[i];
    s.group_count = static_cast<uint32_t>(size);
    return 0;
}

// ---- process groups and sessions ----
// The app is a session and process-group leader (pid = pgid = sid), as the
// first process of a container is; so setpgid and setsid answer EPERM as
// Linux does for a session leader.

int64_t sys_getpgrp(const SyscallArgs&) {
    return sched::current().posix.pgid;
}

int64_t sys_getpgid(const SyscallArgs& a) {
    if (!is_self_pid(static_cast<int32_t>(a.arg[0]))) return errno_result(Errno::kESRCH);
    return sched::current().posix.pgid;
}

int64_t sys_getsid(const SyscallArgs& a) {
    if (!is_self_pid(static_cast<int32_t>(a.arg[0]))) return errno_result(Errno::kESRCH);
    return sched::current().posix.sid;
}

int64_t sys_setpgid(const SyscallArgs& a) {
    const int32_t pid = static_cast<int32_t>(a.arg[0]);
    const int32_t pgid = static_cast<int32_t>(a.arg[1]);
    if (pgid < 0) return errno_result(Errno::kEINVAL);
    if (!is_self_pid(pid)) return errno_result(Errno::kESRCH);
    const Process& p = sched::current();
    if (p.posix.sid == p.pid) return errno_result(Errno::kEPERM);
    // FIXME: reachable only once a process can leave its session leader's
    // group (fork); then a group other than its own must exist in the session.
    if (pgid != 0 && pgid != p.pid && pgid != p.posix.pgid) return errno_result(Errno::kEPERM);
    sched::current().posix.pgid = pgid == 0 ? p.pid : pgid;
    return 0;
}

int64_t sys_setsid(const SyscallArgs&) {
    Process& p = sched::current();
    if (p.posix.pgid == p.pid) return errno_result(Errno::kEPERM);
    p.posix.sid = p.posix.pgid = p.pid;
    return p.pid;
}

// ---- thread bookkeeping ----

int64_t sys_set_tid_address(const SyscallArgs& a) {
    sched::Thread* t = sched::current_thread();
    t->clear_child_tid = a.arg[0];
    return t->tid;
}

constexpr uint64_t kRobustListHeadSize = 24;  // struct robust_list_head

int64_t sys_set_robust_list(const SyscallArgs& a) {
    if (a.arg[1] != kRobustListHeadSize) return errno_result(Errno::kEINVAL);
    ProcessState& s = sched::current().posix;
    s.robust_list_head = a.arg[0];
    s.robust_list_len = a.arg[1];
    return 0;
}

int64_t sys_get_robust_list(const SyscallArgs& a) {
    if (!is_self_pid(static_cast<int32_t>(a.arg[0]))) return errno_result(Errno::kESRCH);
    const ProcessState& s = sched::current().posix;
    if (auto r = write_user<uint64_t>(a.arg[2], kRobustListHeadSize); !r.ok()) {
        return errno_result(r.error());
    }
    return to_syscall_result(write_user<uint64_t>(a.arg[1], s.robust_list_head));
}

// Restartable sequences are an optimisation glibc turns off when it gets
// ENOSYS (verified safe by the census); answered here so it is not logged
// as missing in every glibc program.
int64_t sys_rseq(const SyscallArgs&) {
    return errno_result(Errno::kENOSYS);
}

// ---- arch_prctl ----

int64_t sys_arch_prctl(const SyscallArgs& a) {
    const uint64_t addr = a.arg[1];
    ProcessState& s = sched::current().posix;
    switch (a.arg[0]) {
        case ARCH_SET_FS:
            if (addr >= kTaskSizeMax) return errno_result(Errno::kEPERM);
            arch::set_fs_base(addr);
            return 0;
        case ARCH_GET_FS:
            return to_syscall_result(write_user<uint64_t>(addr, arch::fs_base()));
        case ARCH_SET_GS:
            // FIXME: stored only; the user GS base is not loaded on return to the
            // app (no libc uses it on x86-64).
            if (addr >= kTaskSizeMax) return errno_result(Errno::kEPERM);
            s.gs_base = addr;
            return 0;
        case ARCH_GET_GS:
            return to_syscall_result(write_user<uint64_t>(addr, s.gs_base));
        case ARCH_GET_CPUID:
            return 1;  // CPUID is always allowed: kiln never makes it fault
        case ARCH_SET_CPUID:
            // Turning CPUID faulting on needs hardware support kiln does not use.
            return addr != 0 ? 0 : errno_result(Errno::kENODEV);
        default:
            return errno_result(Errno::kEINVAL);
    }
}

// ---- prctl ----

void current_comm(char (&out)[16]) {
    const Process& p = sched::current();
    if (p.posix.comm[0] != '\0') {
        for (int i = 0; i < 16; i++) out[i] = p.posix.comm[i];
        return;
    }
    // Before PR_SET_NAME the name is the executable's file name, as after
    // execve.
    const char* base = p.exe_path;
    for (const char* c = p.exe_path; *c; c++) {
        if (*c == '/') base = c + 1;
    }
    int i = 0;
    for (; i < 15 && base[i]; i++) out[i] = base[i];
    for (; i < 16; i++) out[i] = '\0';
}

int64_t prctl_set_name(uint64_t addr) {
    // Linux copies at most 15 bytes and always terminates; a longer name is
    // cut, not an error.
    char name[16] = {};
    for (int i = 0; i < 15; i++) {
        auto c = read_user<char>(addr + i);
        if (!c.ok()) return errno_result(c.error());
        if (c.value() == '\0') break;
        name[i] = c.value();
    }
    ProcessState& s = sched::current().posix;
    for (int i = 0; i < 16; i++) s.comm[i] = name[i];
    return 0;
}

int64_t sys_prctl(const SyscallArgs& a) {
    ProcessState& s = sched::current().posix;
    const uint64_t arg2 = a.arg[1];
    switch (a.arg[0]) {
        case PR_SET_PDEATHSIG:
            if (arg2 > static_cast<uint64_t>(kNsig)) return errno_result(Errno::kEINVAL);
            s.pdeathsig = static_cast<int32_t>(arg2);
            return 0;
        case PR_GET_PDEATHSIG:
            return to_syscall_result(write_user<int32_t>(arg2, s.pdeathsig));
        case PR_GET_DUMPABLE:
            return s.dumpable;
        case PR_SET_DUMPABLE:
            if (arg2 > 1) return errno_result(Errno::kEINVAL);
            s.dumpable = static_cast<int32_t>(arg2);
            return 0;
        case PR_SET_NAME:
            return prctl_set_name(arg2);
        case PR_GET_NAME: {
            char name[16];
            current_comm(name);
            return to_syscall_result(copy_to_user(arg2, name, sizeof(name)));
        }
        case PR_CAPBSET_READ:
            // Every capability is in the bounding set; beyond the last one is
            // EINVAL, which is how libsystemd finds cap_last_cap.
            return arg2 <= kCapLastCap ? 1 : errno_result(Errno::kEINVAL);
        case PR_SET_NO_NEW_PRIVS:
            if (arg2 != 1 || a.arg[2] || a.arg[3] || a.arg[4]) return errno_result(Errno::kEINVAL);
            s.no_new_privs = true;
            return 0;
        case PR_GET_NO_NEW_PRIVS:
            if (arg2 || a.arg[2] || a.arg[3] || a.arg[4]) return errno_result(Errno::kEINVAL);
            return s.no_new_privs ? 1 : 0;
        case PR_SET_CHILD_SUBREAPER:
            s.child_subreaper = arg2 != 0;
            return 0;
        case PR_GET_CHILD_SUBREAPER:
            return to_syscall_result(write_user<int32_t>(arg2, s.child_subreaper ? 1 : 0));
        default:
            klog::debug("kiln: prctl option %lu not supported: EINVAL", a.arg[0]);
            return errno_result(Errno::kEINVAL);
    }
}

// ---- personality and capabilities ----

int64_t sys_personality(const SyscallArgs& a) {
    ProcessState& s = sched::current().posix;
    const uint32_t old = s.personality;
    const uint32_t persona = static_cast<uint32_t>(a.arg[0]);
    if (persona != 0xffffffffu) s.personality = persona;
    return old;
}

struct CapHeader {  // struct __user_cap_header_struct
    uint32_t version;
    int32_t pid;
};
struct CapData {  // struct __user_cap_data_struct
    uint32_t effective;
    uint32_t permitted;
    uint32_t inheritable;
};
static_assert(sizeof(CapHeader) == 8 && sizeof(CapData) == 12);

// The number of CapData words for a header's version; EINVAL (after
// writing the preferred version back, as Linux does) for an unknown one.
Result<int> cap_words(uint64_t header_addr, const CapHeader& h) {
    switch (h.version) {
        case _LINUX_CAPABILITY_VERSION_1:
            return 1;
        case _LINUX_CAPABILITY_VERSION_2:
        case _LINUX_CAPABILITY_VERSION_3:
            return 2;
        default:
            TRY(write_user<uint32_t>(header_addr, _LINUX_CAPABILITY_VERSION_3));
            return Error(Errno::kEINVAL);
    }
}

int64_t sys_capget(const SyscallArgs& a) {
    auto h = read_user<CapHeader>(a.arg[0]);
    if (!h.ok()) return errno_result(h.error());
    auto words = cap_words(a.arg[0], h.value());
    // A null data pointer probes for the preferred version.
    if (a.arg[1] == 0) {
        return words.ok() || words.error() == Errno::kEINVAL ? 0 : errno_result(words.error());
    }
    if (!words.ok()) return errno_result(words.error());
    if (h->pid < 0) return errno_result(Errno::kEINVAL);
    if (!is_self_pid(h->pid)) return errno_result(Errno::kESRCH);
    // Root holds every capability (0..CAP_LAST_CAP); anyone else none.
    const bool root = privileged();
    CapData data[2] = {};
    data[0].effective = data[0].permitted = root ? 0xffffffffu : 0;
    data[1].effective = data[1].permitted = root ? (1u << (kCapLastCap - 31)) - 1 : 0;
    return to_syscall_result(copy_to_user(a.arg[1], data, words.value() * sizeof(CapData)));
}

int64_t sys_capset(const SyscallArgs& a) {
    auto h = read_user<CapHeader>(a.arg[0]);
    if (!h.ok()) return errno_result(h.error());
    auto words = cap_words(a.arg[0], h.value());
    if (!words.ok()) return errno_result(words.error());
    if (!is_self_pid(h->pid)) return errno_result(Errno::kEPERM);
    CapData data[2] = {};
    if (auto r = copy_from_user(data, a.arg[1], words.value() * sizeof(CapData)); !r.ok()) {
        return errno_result(r.error());
    }
    // Dropping capabilities is allowed; gaining any beyond root's is not.
    if (!privileged()) {
        for (int i = 0; i < words.value(); i++) {
            if (data[i].effective | data[i].permitted) return errno_result(Errno::kEPERM);
        }
    }
    // FIXME: capabilities are not tracked apart from the euid, so a root
    // process that drops some still holds (and reports) all of them.
    return 0;
}

// clang-format off
const SyscallDef kProcess[] = {
    {__NR_exit, "exit", sys_exit, {Arg::kInt}},
    {__NR_exit_group, "exit_group", sys_exit_group, {Arg::kInt}},
    {__NR_clone, "clone", sys_clone, {Arg::kHex, Arg::kPtr, Arg::kPtr, Arg::kPtr, Arg::kPtr}},
    {__NR_clone3, "clone3", sys_clone3, {Arg::kPtr, Arg::kUInt}},
    {__NR_getpid, "getpid", sys_getpid, {}},
    {__NR_getppid, "getppid", sys_getppid, {}},
    {__NR_gettid, "gettid", sys_gettid, {}},
    {__NR_getuid, "getuid", sys_getuid, {}},
    {__NR_geteuid, "geteuid", sys_geteuid, {}},
    {__NR_getgid, "getgid", sys_getgid, {}},
    {__NR_getegid, "getegid", sys_getegid, {}},
    {__NR_getresuid, "getresuid", sys_getresuid, {Arg::kPtr, Arg::kPtr, Arg::kPtr}},
    {__NR_getresgid, "getresgid", sys_getresgid, {Arg::kPtr, Arg::kPtr, Arg::kPtr}},
    {__NR_setuid, "setuid", sys_setuid, {Arg::kInt}},
    {__NR_setgid, "setgid", sys_setgid, {Arg::kInt}},
    {__NR_setreuid, "setreuid", sys_setreuid, {Arg::kInt, Arg::kInt}},
    {__NR_setregid, "setregid", sys_setregid, {Arg::kInt, Arg::kInt}},
    {__NR_setresuid, "setresuid", sys_setresuid, {Arg::kInt, Arg::kInt, Arg::kInt}},
    {__NR_setresgid, "setresgid", sys_setresgid, {Arg::kInt, Arg::kInt, Arg::kInt}},
    {__NR_setfsuid, "setfsuid", sys_setfsuid, {Arg::kInt}},
    {__NR_setfsgid, "setfsgid", sys_setfsgid, {Arg::kInt}},
    {__NR_getgroups, "getgroups", sys_getgroups, {Arg::kInt, Arg::kPtr}},
    {__NR_setgroups, "setgroups", sys_setgroups, {Arg::kInt, Arg::kPtr}},
    {__NR_getpgrp, "getpgrp", sys_getpgrp, {}},
    {__NR_getpgid, "getpgid", sys_getpgid, {Arg::kInt}},
    {__NR_setpgid, "setpgid", sys_setpgid, {Arg::kInt, Arg::kInt}},
    {__NR_getsid, "getsid", sys_getsid, {Arg::kInt}},
    {__NR_setsid, "setsid", sys_setsid, {}},
    {__NR_set_tid_address, "set_tid_address", sys_set_tid_address, {Arg::kPtr}},
    {__NR_set_robust_list, "set_robust_list", sys_set_robust_list, {Arg::kPtr, Arg::kUInt}},
    {__NR_get_robust_list, "get_robust_list", sys_get_robust_list, {Arg::kInt, Arg::kPtr, Arg::kPtr}},
    {__NR_rseq, "rseq", sys_rseq, {Arg::kPtr, Arg::kUInt, Arg::kHex, Arg::kHex}},
    {__NR_arch_prctl, "arch_prctl", sys_arch_prctl, {Arg::kHex, Arg::kPtr}},
    {__NR_prctl, "prctl", sys_prctl, {Arg::kInt, Arg::kHex, Arg::kHex, Arg::kHex, Arg::kHex}},
    {__NR_personality, "personality", sys_personality, {Arg::kHex}},
    {__NR_capget, "capget", sys_capget, {Arg::kPtr, Arg::kPtr}},
    {__NR_capset, "capset", sys_capset, {Arg::kPtr, Arg::kPtr}},
    // system.cpp
    {__NR_uname, "uname", sys_uname, {Arg::kPtr}},
    {__NR_sethostname, "sethostname", sys_sethostname, {Arg::kBuf, Arg::kUInt}},
    {__NR_setdomainname, "setdomainname", sys_setdomainname, {Arg::kBuf, Arg::kUInt}},
    {__NR_prlimit64, "prlimit64", sys_prlimit64, {Arg::kInt, Arg::kInt, Arg::kPtr, Arg::kPtr}},
    {__NR_getrlimit, "getrlimit", sys_getrlimit, {Arg::kInt, Arg::kPtr}},
    {__NR_setrlimit, "setrlimit", sys_setrlimit, {Arg::kInt, Arg::kPtr}},
    {__NR_sysinfo, "sysinfo", sys_sysinfo, {Arg::kPtr}},
    {__NR_getrandom, "getrandom", sys_getrandom, {Arg::kPtr, Arg::kUInt, Arg::kHex}},
    {__NR_sched_getaffinity, "sched_getaffinity", sys_sched_getaffinity, {Arg::kInt, Arg::kUInt, Arg::kPtr}},
    {__NR_sched_setaffinity, "sched_setaffinity", sys_sched_setaffinity, {Arg::kInt, Arg::kUInt, Arg::kPtr}},
    {__NR_sched_yield, "sched_yield", sys_sched_yield, {}},
    {__NR_sched_getscheduler, "sched_getscheduler", sys_sched_getscheduler, {Arg::kInt}},
    {__NR_sched_getparam, "sched_getparam", sys_sched_getparam, {Arg::kInt, Arg::kPtr}},
    {__NR_sched_get_priority_max, "sched_get_priority_max", sys_sched_get_priority_max, {Arg::kInt}},
    {__NR_sched_get_priority_min, "sched_get_priority_min", sys_sched_get_priority_min, {Arg::kInt}},
    {__NR_getcpu, "getcpu", sys_getcpu, {Arg::kPtr, Arg::kPtr, Arg::kPtr}},
    {__NR_times, "times", sys_times, {Arg::kPtr}},
    {__NR_getrusage, "getrusage", sys_getrusage, {Arg::kInt, Arg::kPtr}},
    {__NR_getpriority, "getpriority", sys_getpriority, {Arg::kInt, Arg::kInt}},
    {__NR_setpriority, "setpriority", sys_setpriority, {Arg::kInt, Arg::kInt, Arg::kInt}},
    {__NR_ioprio_get, "ioprio_get", sys_ioprio_get, {Arg::kInt, Arg::kInt}},
    {__NR_ioprio_set, "ioprio_set", sys_ioprio_set, {Arg::kInt, Arg::kInt, Arg::kHex}},
};
// clang-format on

}  // namespace

extern const SyscallFamily kProcessFamily = {kProcess, sizeof(kProcess) / sizeof(kProcess[0])};

}  // namespace kiln::sys
