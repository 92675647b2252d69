// Running one benchmark command: spawn, time, wait with a deadline, capture.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace kiln::bench {

enum class Output {
    Discard,  // stdout and stderr go to /dev/null (the timed runs)
    Capture,  // stdout and stderr are kept (warm-ups, CPU check, stats)
};

struct RunResult {
    int spawn_error = 0;     // errno from posix_spawn; 0 when the program started
    bool timed_out = false;  // killed after the deadline
    int status = 0;          // waitpid status
    int64_t elapsed_ns = 0;  // just before spawn to waitpid return, CLOCK_MONOTONIC
    std::string out;         // captured stdout (Output::Capture)
    std::string err;         // captured stderr (Output::Capture)

    bool exited_with(int code) const;
};

// Runs argv[0] (an absolute or relative path, not searched in PATH) with
// stdin from /dev/null. A program still running after timeout_ms is killed
// with SIGKILL, together with the process group it was started in (its own).
RunResult run_program(const std::vector<std::string>& argv, Output output, int timeout_ms);

// "exit 3", "killed by signal 11", "timed out after 10 s", "spawn failed: ...".
std::string describe(const RunResult& r, int timeout_ms);

// Looks a program name up in PATH; empty when not found.
std::string find_in_path(const std::string& name);

}  // namespace kiln::bench
