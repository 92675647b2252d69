// Checked access to the application's memory: each range must lie below
// kUserTop without wrapping, and in mappings that allow the access; the
// address space faults its pages in first (mm/vm.h prepare), so the copy
// itself cannot fault. With SMAP on, the copy runs between stac and clac.
#include "linux/user.h"

#include "arch/x86_64/arch.h"
#include "mm/vm.h"
#include "sched/process.h"

namespace kiln::sys {
namespace {

constexpr uint64_t kPage = 4096;

Result<void> prepare(uint64_t addr, size_t n, mm::Access access) {
    if (addr >= kUserTop || n > kUserTop - addr) return Error(Errno::kEFAULT);
    mm::UserAddressSpace* vm = sched::current().vm;
    if (vm == nullptr) return Error(Errno::kEFAULT);
    return vm->prepare(addr, n, access);
}

}  // namespace

Result<void> copy_from_user(void* dst, uint64_t src, size_t n) {
    if (n == 0) return {};
    TRY(prepare(src, n, mm::Access::kRead));
    arch::user_access_begin();
    // SAFETY: prepare() made every page of [src, src+n) present and readable.
    __builtin_memcpy(dst, reinterpret_cast<const void*>(src), n);
    arch::user_access_end();
    return {};
}

Result<void> copy_to_user(uint64_t dst, const void* src, size_t n) {
    if (n == 0) return {};
    TRY(prepare(dst, n, mm::Access::kWrite));
    arch::user_access_begin();
    // SAFETY: prepare() made every page of [dst, dst+n) present and writable.
    __builtin_memcpy(reinterpret_cast<void*>(dst), src, n);
    arch::user_access_end();
    return {};
}

Result<void> clear_user(uint64_t dst, size_t n) {
    if (n == 0) return {};
    TRY(prepare(dst, n, mm::Access::kWrite));
    arch::user_access_begin();
    // SAFETY: prepare() made every page of [dst, dst+n) present and writable.
    __builtin_memset(reinterpret_cast<void*>(dst), 0, n);
    arch::user_access_end();
    return {};
}

Result<size_t> copy_string_from_user(char* dst, uint64_t src, size_t cap) {
    size_t len = 0;
    while (len < cap) {
        // One page at a time, so that the page after the NUL is never touched.
        const uint64_t at = src + len;
        size_t chunk = kPage - (at & (kPage - 1));
        if (chunk > cap - len) chunk = cap - len;
        TRY(prepare(at, chunk, mm::Access::kRead));
        arch::user_access_begin();
        // SAFETY: prepare() made [at, at+chunk) present and readable.
        const char* p = reinterpret_cast<const char*>(at);
        size_t i = 0;
        bool nul = false;
        for (; i < chunk; i++) {
            dst[len + i] = p[i];
            if (p[i] == '\0') {
                nul = true;
                break;
            }
        }
        arch::user_access_end();
        if (nul) return len + i;
        len += chunk;
    }
    return Error(Errno::kENAMETOOLONG);
}

}  // namespace kiln::sys
