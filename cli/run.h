// `kiln run`: find the program, pack it (or find its cached image), write
// the per-run data, and boot it under kiln-vmm, waiting for it so that the
// per-run data can be removed and the program's status returned.
#pragma once

#include <string>
#include <vector>

namespace kiln::cli {

// Docker's status for "the container could not be run".
inline constexpr int kStatusCannotRun = 125;

// The words after "run"; returns the exit status for kiln.
int run_command(const std::vector<std::string>& words);

// PROGRAM as a shell finds it: a name with a '/' is a path (made absolute
// with the working directory), else the first executable regular file of
// that name in $PATH. "" with *error naming the problem.
std::string find_program(const std::string& name, std::string* error);

}  // namespace kiln::cli
