// The per-run initrd: a second, small cpio archive (PVH module 1) with what
// changes from run to run of the same image. The kernel's loader reads
//   /.kiln/argv   the program's arguments, each NUL-terminated; argv[0] is
//                 the program's path in the image
//   /.kiln/env    its environment, KEY=VAL each NUL-terminated
#pragma once

#include <string>
#include <vector>

namespace kiln::cli {

// Docker's defaults for a container without ENV: PATH and HOME, then the
// -e values (a -e KEY replaces a default KEY, a later -e an earlier one).
std::vector<std::string> run_environment(const std::vector<std::string>& user_env);

// "a\0b\0" for {"a", "b"}.
std::string nul_list(const std::vector<std::string>& items);

// Writes the archive to `fd`; false with *error on a write failure.
bool write_run_data(int fd, const std::vector<std::string>& argv,
                    const std::vector<std::string>& env, std::string* error);

}  // namespace kiln::cli
