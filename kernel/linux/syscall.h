// The Linux x86-64 system-call boundary: one table maps a number to its
// handler, its name and how to print its arguments (for `kiln.strace`).
// Handlers live in families (fs.cpp, mm.cpp, process.cpp, time.cpp, ...);
// each family exports a SyscallDef array and table.cpp gathers them.
//
// Numbers come from Linux's own <asm/unistd_64.h> (__NR_*). A handler
// returns the result or a negative errno, exactly as the app will see it.
// dispatch() is a plain function: the trap entry calls it, and later work
// can route rewritten syscall sites or the vDSO to it without a trap.
// (The namespace is kiln::sys because GNU C++ predefines the macro `linux`.)
#pragma once

#include <asm/unistd_64.h>
#include <stddef.h>
#include <stdint.h>

#include "kiln/errno.h"
#include "kiln/result.h"

namespace kiln::sys {

struct SyscallArgs {
    uint64_t arg[6];
};

using SyscallHandler = int64_t (*)(const SyscallArgs& a);

// How strace prints an argument.
enum class Arg : uint8_t {
    kNone,       // unused slot
    kInt,        // signed decimal
    kUInt,       // unsigned decimal (sizes, counts)
    kHex,        // flags or masks
    kPtr,        // a user address
    kFd,         // a file descriptor (AT_FDCWD printed as such)
    kPath,       // a NUL-terminated user string
    kBuf,        // a user buffer whose length is the next argument
    kOpenFlags,  // O_* symbolically
    kProt,       // PROT_* symbolically
    kMapFlags,   // MAP_* symbolically
};

struct SyscallDef {
    uint32_t nr;
    const char* name;
    SyscallHandler handler;
    Arg args[6];
};

struct SyscallFamily {
    const SyscallDef* defs;
    size_t count;
};

// Builds the table from the families (table.cpp). Called once at boot.
void init_syscall_table();

// Runs syscall `nr`. Unimplemented numbers return -ENOSYS and are logged
// once by name.
int64_t dispatch(uint64_t nr, const SyscallArgs& a);

// `kiln.strace`: print every call with decoded arguments and its result.
void set_strace(bool on);

// The name of syscall nr, or nullptr.
const char* syscall_name(uint64_t nr);

// A negative errno as a handler's return value.
constexpr int64_t errno_result(Errno e) { return -static_cast<int64_t>(e); }

// Converts a Result to a handler's return value.
template <typename T>
int64_t to_syscall_result(const Result<T>& r) {
    if (!r.ok()) return errno_result(r.error());
    return static_cast<int64_t>(r.value());
}
inline int64_t to_syscall_result(const Result<void>& r) { return r.ok() ? 0 : errno_result(r.error()); }

}  // namespace kiln::sys
