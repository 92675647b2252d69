#include "spawn.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

extern char** environ;

namespace kiln::bench {
namespace {

int64_t now_ns() {
    timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return int64_t(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

int dev_null() {
    static int fd = open("/dev/null", O_RDWR | O_CLOEXEC);
    return fd;
}

std::string read_all(int fd) {
    std::string s;
    if (lseek(fd, 0, SEEK_SET) < 0) return s;
    char buf[4096];
    for (;;) {
        ssize_t n = read(fd, buf, sizeof buf);
        if (n <= 0) break;
        s.append(buf, size_t(n));
    }
    return s;
}

// Waits for pid to end, at most timeout_ms; kills its process group when
// the deadline passes. Returns false on timeout.
bool wait_with_deadline(pid_t pid, int timeout_ms, int* status) {
    // A pidfd makes the deadline a plain poll(); no SIGCHLD handler, no threads.
    int pidfd = int(syscall(SYS_pidfd_open, pid, 0));
    bool in_time = true;
    if (pidfd >= 0) {
        pollfd p{pidfd, POLLIN, 0};
        int n;
        do n = poll(&p, 1, timeout_ms);
        while (n < 0 && errno == EINTR);
        close(pidfd);
        if (n == 0) {
            in_time = false;
            // The child leads a process group of its own (POSIX_SPAWN_SETPGROUP),
            // so this reaches only processes this benchmark started.
            kill(-pid, SIGKILL);
            kill(pid, SIGKILL);
        }
    }
    while (waitpid(pid, status, 0) < 0 && errno == EINTR) {
    }
    return in_time;
}

}  // namespace

bool RunResult::exited_with(int code) const {
    return spawn_error == 0 && !timed_out && WIFEXITED(status) && WEXITSTATUS(status) == code;
}

RunResult run_program(const std::vector<std::string>& argv, Output output, int timeout_ms) {
    RunResult r;
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);

    int out_fd = dev_null(), err_fd = dev_null();
    if (output == Output::Capture) {
        out_fd = memfd_create("bench-stdout", MFD_CLOEXEC);
        err_fd = memfd_create("bench-stderr", MFD_CLOEXEC);
    }

    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, dev_null(), 0);
    posix_spawn_file_actions_adddup2(&fa, out_fd, 1);
    posix_spawn_file_actions_adddup2(&fa, err_fd, 2);
    posix_spawnattr_t attr;
    posix_spawnattr_init(&attr);
    sigset_t none;
    sigemptyset(&none);
    posix_spawnattr_setsigmask(&attr, &none);
    posix_spawnattr_setpgroup(&attr, 0);
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK);

    pid_t pid;
    int64_t t0 = now_ns();
    r.spawn_error = posix_spawn(&pid, args[0], &fa, &attr, args.data(), environ);
    if (r.spawn_error == 0) {
        r.timed_out = !wait_with_deadline(pid, timeout_ms, &r.status);
        r.elapsed_ns = now_ns() - t0;
    }
    posix_spawnattr_destroy(&attr);
    posix_spawn_file_actions_destroy(&fa);

    if (output == Output::Capture) {
        r.out = read_all(out_fd);
        r.err = read_all(err_fd);
        close(out_fd);
        close(err_fd);
    }
    return r;
}

std::string describe(const RunResult& r, int timeout_ms) {
    if (r.spawn_error != 0) return std::string("spawn failed: ") + strerror(r.spawn_error);
    if (r.timed_out) return "timed out after " + std::to_string(timeout_ms / 1000) + " s, killed";
    if (WIFEXITED(r.status)) return "exit " + std::to_string(WEXITSTATUS(r.status));
    if (WIFSIGNALED(r.status))
        return std::string("killed by signal ") + std::to_string(WTERMSIG(r.status)) + " (" +
               strsignal(WTERMSIG(r.status)) + ")";
    return "status " + std::to_string(r.status);
}

std::string find_in_path(const std::string& name) {
    const char* path = getenv("PATH");
    std::string p = path ? path : "/usr/local/bin:/usr/bin:/bin";
    size_t start = 0;
    for (;;) {
        size_t end = p.find(':', start);
        std::string dir = p.substr(start, end == std::string::npos ? end : end - start);
        if (dir.empty()) dir = ".";
        std::string full = dir + "/" + name;
        if (access(full.c_str(), X_OK) == 0) return full;
        if (end == std::string::npos) return {};
        start = end + 1;
    }
}

}  // namespace kiln::bench
