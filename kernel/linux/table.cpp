// The syscall table: built at boot from the families, each a SyscallDef
// array defined next to its handlers. A family not linked in yet is a weak
// reference that resolves to null and contributes nothing.
#include "arch/x86_64/arch.h"
#include "klog.h"
#include "linux/syscall.h"

namespace kiln::sys {

// One per family file (kernel/linux/<family>.cpp).
extern const SyscallFamily kFsFamily __attribute__((weak));
extern const SyscallFamily kFsStatFamily __attribute__((weak));
extern const SyscallFamily kFsFdFamily __attribute__((weak));
extern const SyscallFamily kFsIoFamily __attribute__((weak));
extern const SyscallFamily kFsPipeFamily __attribute__((weak));
extern const SyscallFamily kFsPollFamily __attribute__((weak));
extern const SyscallFamily kMmFamily __attribute__((weak));
extern const SyscallFamily kProcessFamily __attribute__((weak));
extern const SyscallFamily kTimeFamily __attribute__((weak));
extern const SyscallFamily kSignalFamily __attribute__((weak));
extern const SyscallFamily kMiscFamily __attribute__((weak));
extern const SyscallFamily kNetFamily __attribute__((weak));

namespace {

constexpr size_t kTableSize = 512;
const SyscallDef* table[kTableSize];
uint8_t reported_missing[kTableSize / 8];
bool strace = false;

const SyscallFamily* const kFamilies[] = {&kFsFamily, &kFsStatFamily, &kFsFdFamily, &kFsIoFamily,     &kFsPipeFamily, &kFsPollFamily, &kMmFamily,     &kProcessFamily,
                                          &kTimeFamily,   &kSignalFamily, &kMiscFamily, &kNetFamily};

}  // namespace

void init_syscall_table() {
    for (const SyscallFamily* f : kFamilies) {
        if (f == nullptr) continue;
        for (size_t i = 0; i < f->count; i++) {
            const SyscallDef& d = f->defs[i];
            if (d.nr >= kTableSize) continue;
            if (table[d.nr] != nullptr) {
                klog::error("kiln: syscall %u (%s) defined twice", d.nr, d.name);
            }
            table[d.nr] = &d;
        }
    }
}

void set_strace(bool on) { strace = on; }

const char* syscall_name(uint64_t nr) {
    return nr < kTableSize && table[nr] ? table[nr]->name : nullptr;
}

const char* syscall_any_name(uint64_t nr);
void strace_enter(const SyscallDef* def, uint64_t nr, const SyscallArgs& a);
void strace_exit(const SyscallDef* def, uint64_t nr, int64_t result);

int64_t dispatch(uint64_t nr, const SyscallArgs& a) {
    const SyscallDef* def = nr < kTableSize ? table[nr] : nullptr;
    if (def == nullptr) {
        if (nr < kTableSize && !(reported_missing[nr / 8] & (1 << (nr % 8)))) {
            reported_missing[nr / 8] |= uint8_t(1 << (nr % 8));
            const char* name = syscall_any_name(nr);
            klog::warn("kiln: unimplemented syscall %s (%lu); returning ENOSYS", name ? name : "?", nr);
        }
        if (strace) strace_exit(nullptr, nr, errno_result(Errno::kENOSYS));
        return errno_result(Errno::kENOSYS);
    }
    if (strace) strace_enter(def, nr, a);
    int64_t r = def->handler(a);
    if (strace) strace_exit(def, nr, r);
    return r;
}

}  // namespace kiln::sys
