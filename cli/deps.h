// Which files a dynamically linked program needs, found the way the host's
// dynamic loader would find them, without running it (no ldd):
//
// glibc (ld.so(8)): a name with a '/' is a path; else DT_RPATH of the
// object that needs it and of the objects that loaded that one, up to the
// program (only when the needing object has no DT_RUNPATH); DT_RUNPATH of
// the needing object; /etc/ld.so.cache; the default directories.
// LD_LIBRARY_PATH is ignored on purpose: an image must not depend on the
// shell it was packed from. $ORIGIN, $LIB and $PLATFORM are expanded.
//
// musl (ld-musl-x86_64.so.1): libc, libpthread, librt, libm, libdl, libutil
// and libxnet are the loader itself; else DT_RUNPATH or DT_RPATH up the
// chain, then /etc/ld-musl-x86_64.path or /lib:/usr/local/lib:/usr/lib.
//
// Libraries load breadth first; a name already loaded (by DT_NEEDED name or
// DT_SONAME) is not searched again. A candidate that is not an x86-64 ELF
// shared object is passed over, as ld.so does.
#pragma once

#include <string>
#include <vector>

namespace kiln::cli {

struct SearchRules {
    std::string ld_cache = "/etc/ld.so.cache";
    std::vector<std::string> glibc_default_dirs = {
        "/lib/x86_64-linux-gnu", "/usr/lib/x86_64-linux-gnu", "/lib64", "/usr/lib", "/lib"};
    std::string musl_path_file = "/etc/ld-musl-x86_64.path";
    std::vector<std::string> musl_default_dirs = {"/lib", "/usr/local/lib", "/usr/lib"};
};

struct Dependencies {
    std::string interp;                  // PT_INTERP, "" for a static program
    bool musl = false;                   // the interpreter is musl's
    std::vector<std::string> libraries;  // found paths, in load order
    std::vector<std::string> config;     // loader files the image should carry (ld.so.cache)
    std::vector<std::string> missing;    // "libfoo.so.1 (needed by /path/prog)"
};

// Why `path` cannot be run as an x86-64 Linux program, or "" when it can:
// it must be a regular ELF64 little-endian x86-64 ET_EXEC or ET_DYN file.
std::string check_program(const std::string& path);

// Resolves everything `program` (an absolute path that check_program
// accepted) needs. False with *error for a malformed program or
// interpreter; libraries that are not found only land in `missing`.
bool resolve_dependencies(const std::string& program, const SearchRules& rules, Dependencies* out,
                          std::string* error);

}  // namespace kiln::cli
