// Runs a program as a user would and collects what it printed, for the
// end-to-end tests. Every child is ended (by PID) if it outlives its
// timeout, so a hanging guest fails its test instead of the suite.
#pragma once

#include <string>
#include <utility>
#include <vector>

namespace kiln::test {

struct RunResult {
    int status = -1;  // exit status; -1 when killed by a signal
    int signal = 0;   // the signal that ended it, if any
    bool timed_out = false;
    std::string out;
    std::string err;
};

struct RunOptions {
    std::vector<std::pair<std::string, std::string>> env;  // added to the environment
    bool as_nobody = false;  // drop root (uid/gid 65534) before exec, for permission tests
    int timeout_s = 60;
    // Sends `signal` to the program once its stdout contains `signal_after`
    // (for tests of Ctrl-C and friends); 0: never.
    int signal = 0;
    std::string signal_after;
    std::string stdin_path = "/dev/null";
};

RunResult run(const std::vector<std::string>& argv, const RunOptions& opts = {});

// A fresh directory under /tmp, removed with everything in it at exit.
std::string scratch_dir();
std::string read_file(const std::string& path);

// Why KVM tests cannot run here, or "" when /dev/kvm is usable.
std::string kvm_unavailable_reason();
bool have_program(const std::string& name);
// A TCP port on 127.0.0.1 that is free now (bound and released).
int free_tcp_port();

}  // namespace kiln::test
