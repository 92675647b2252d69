// The memory family: mmap, munmap, mprotect, brk, mremap, madvise, msync,
// mincore and the mlock calls, over the process's UserAddressSpace (mm/vm.h),
// which holds the Linux semantics. mlock and friends succeed without doing
// anything: every page stays in memory anyway.
#include <linux/mman.h>

#include "fs/fd.h"
#include "fs/file.h"
#include "linux/syscall.h"
#include "linux/user.h"
#include "mm/vm.h"
#include "sched/process.h"

namespace kiln::sys {
namespace {

mm::UserAddressSpace* vm() {
    return sched::current().vm;
}

int64_t sys_mmap(const SyscallArgs& a) {
    mm::UserAddressSpace* space = vm();
    if (space == nullptr) return errno_result(Errno::kENOMEM);
    const int flags = static_cast<int>(a.arg[3]);
    const int fd = static_cast<int>(a.arg[4]);
    const int prot = static_cast<int>(a.arg[2]);
    if (flags & MAP_ANONYMOUS) {
        return to_syscall_result(space->mmap(a.arg[0], a.arg[1], prot, flags, nullptr, a.arg[5]));
    }
    // mmap(2)'s file rules: EBADF for no file, ENODEV for what cannot be
    // mapped, EACCES for a file not open for reading (or for writing when a
    // shared mapping may write to it).
    auto file = fs::file_of_fd(fd);
    if (!file.ok()) return errno_result(Errno::kEBADF);
    if (!(*file)->readable()) return errno_result(Errno::kEACCES);
    if ((flags & MAP_SHARED) && (prot & PROT_WRITE) && !(*file)->writable()) {
        return errno_result(Errno::kEACCES);
    }
    auto inode = fs::inode_of_fd(fd);
    if (!inode.ok()) return errno_result(Errno::kEBADF);
    if ((*inode)->type() != fs::InodeType::kRegular) {
        (*inode)->release();
        return errno_result(Errno::kENODEV);
    }
    auto r = space->mmap(a.arg[0], a.arg[1], prot, flags, *inode, a.arg[5]);
    (*inode)->release();  // the mapping holds its own reference
    return to_syscall_result(r);
}

int64_t sys_munmap(const SyscallArgs& a) {
    mm::UserAddressSpace* space = vm();
    if (space == nullptr) return errno_result(Errno::kEINVAL);
    return to_syscall_result(space->munmap(a.arg[0], a.arg[1]));
}

int64_t sys_mprotect(const SyscallArgs& a) {
    mm::UserAddressSpace* space = vm();
    if (space == nullptr) return errno_result(Errno::kENOMEM);
    return to_syscall_result(space->mprotect(a.arg[0], a.arg[1], static_cast<int>(a.arg[2])));
}

int64_t sys_brk(const SyscallArgs& a) {
    mm::UserAddressSpace* space = vm();
    if (space == nullptr) return 0;
    return static_cast<int64_t>(space->brk(a.arg[0]));
}

int64_t sys_mremap(const SyscallArgs& a) {
    mm::UserAddressSpace* space = vm();
    if (space == nullptr) return errno_result(Errno::kEFAULT);
    return to_syscall_result(
        space->mremap(a.arg[0], a.arg[1], a.arg[2], static_cast<int>(a.arg[3]), a.arg[4]));
}

int64_t sys_madvise(const SyscallArgs& a) {
    mm::UserAddressSpace* space = vm();
    if (space == nullptr) return errno_result(Errno::kENOMEM);
    return to_syscall_result(space->madvise(a.arg[0], a.arg[1], static_cast<int>(a.arg[2])));
}

int64_t sys_msync(const SyscallArgs& a) {
    mm::UserAddressSpace* space = vm();
    if (space == nullptr) return errno_result(Errno::kENOMEM);
    return to_syscall_result(space->msync(a.arg[0], a.arg[1], static_cast<int>(a.arg[2])));
}

int64_t sys_mincore(const SyscallArgs& a) {
    mm::UserAddressSpace* space = vm();
    if (space == nullptr) return errno_result(Errno::kENOMEM);
    const uint64_t addr = a.arg[0], len = a.arg[1], vec = a.arg[2];
    if (addr & 4095) return errno_result(Errno::kEINVAL);
    if (len > kUserTop) return errno_result(Errno::kENOMEM);
    const uint64_t pages = (len + 4095) / 4096;
    uint8_t buf[256];
    for (uint64_t done = 0; done < pages;) {
        const uint64_t n = pages - done < sizeof buf ? pages - done : sizeof buf;
        auto r = space->mincore(addr + done * 4096, n, buf);
        if (!r.ok()) return errno_result(r.error());
        auto w = copy_to_user(vec + done, buf, n);
        if (!w.ok()) return errno_result(w.error());
        done += n;
    }
    return 0;
}

int64_t sys_mlock_any(const SyscallArgs&) {
    return 0;
}

const SyscallDef kMm[] = {
    {__NR_mmap, "mmap", sys_mmap, {Arg::kPtr, Arg::kUInt, Arg::kProt, Arg::kMapFlags, Arg::kFd, Arg::kHex}},
    {__NR_munmap, "munmap", sys_munmap, {Arg::kPtr, Arg::kUInt}},
    {__NR_mprotect, "mprotect", sys_mprotect, {Arg::kPtr, Arg::kUInt, Arg::kProt}},
    {__NR_brk, "brk", sys_brk, {Arg::kPtr}},
    {__NR_mremap, "mremap", sys_mremap, {Arg::kPtr, Arg::kUInt, Arg::kUInt, Arg::kHex, Arg::kPtr}},
    {__NR_madvise, "madvise", sys_madvise, {Arg::kPtr, Arg::kUInt, Arg::kInt}},
    {__NR_msync, "msync", sys_msync, {Arg::kPtr, Arg::kUInt, Arg::kHex}},
    {__NR_mincore, "mincore", sys_mincore, {Arg::kPtr, Arg::kUInt, Arg::kPtr}},
    {__NR_mlock, "mlock", sys_mlock_any, {Arg::kPtr, Arg::kUInt}},
    {__NR_mlock2, "mlock2", sys_mlock_any, {Arg::kPtr, Arg::kUInt, Arg::kHex}},
    {__NR_munlock, "munlock", sys_mlock_any, {Arg::kPtr, Arg::kUInt}},
    {__NR_mlockall, "mlockall", sys_mlock_any, {Arg::kHex}},
    {__NR_munlockall, "munlockall", sys_mlock_any, {}},
};

}  // namespace

extern const SyscallFamily kMmFamily = {kMm, sizeof(kMm) / sizeof(kMm[0])};

}  // namespace kiln::sys
