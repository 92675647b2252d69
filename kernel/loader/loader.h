// Starting a program: ELF loading (static, static-pie, PIE and dynamic
// through PT_INTERP), the initial stack with argv, envp and the auxiliary
// vector (System V x86-64 psABI §3.4), and the vDSO. The caller enters user
// mode at the returned rip/rsp with the other registers zero.
//
// User address-space layout (fixed, no randomisation yet):
//   0x7ffffffff000  top of the stack (mm's kTop); 8 MiB stack below it,
//                   MAP_GROWSDOWN, mm keeps its guard gap free below
//   0x7ffff7ffa000  the vDSO (AT_SYSINFO_EHDR), read+execute
//   0x7ffff7ff8000  the two vvar pages, read-only
//   below 0x7ffff7ff0000  the program interpreter (ld.so), AT_BASE
//   0x555555554000  ET_DYN programs (PIE, static-pie), Linux's ELF_ET_DYN_BASE
//   p_vaddr         ET_EXEC programs where they are linked
//   after the program's highest segment: brk
//   below 0x7f0000000000  everything mmap places (mm's default top)
#pragma once

#include <stdint.h>

#include "kiln/result.h"

namespace kiln::loader {

inline constexpr uint64_t kStackTop = 0x00007ffffffff000ull;
inline constexpr uint64_t kStackSize = 8ull << 20;
inline constexpr uint64_t kVdsoBase = 0x00007ffff7ffa000ull;
inline constexpr uint64_t kVvarBase = 0x00007ffff7ff8000ull;
inline constexpr uint64_t kVdsoMaxBytes = 5 * 4096;
inline constexpr uint64_t kInterpTop = 0x00007ffff7ff0000ull;
inline constexpr uint64_t kDynBase = 0x0000555555554000ull;

struct UserEntry {
    uint64_t rip;
    uint64_t rsp;
};

// Loads the program at `path` into sched::current().vm (created when the
// process has none; the address space must be empty) with the NULL-ended
// argv and envp, maps the stack and the vDSO, and sets the break.
// ENOENT/EACCES from the file system, ENOEXEC for a file that is not a
// loadable x86-64 ELF (logged with the reason), ENOMEM, E2BIG.
Result<UserEntry> exec(const char* path, const char* const* argv, const char* const* envp);

// The application the image names: argv from /.kiln/argv and the
// environment from /.kiln/env (NUL-separated; written by `kiln run`).
// Sets the process's exe_path to argv[0] and calls exec(argv[0], ...).
// ENOENT when the image has no /.kiln/argv (the kernel runs its built-in
// jobs then).
Result<UserEntry> exec_from_image();

// Maps the vvar pages (read-only) and the vDSO (read+execute) at their
// fixed addresses in sched::current().vm; returns the vDSO's base.
Result<uint64_t> map_vdso();

}  // namespace kiln::loader
