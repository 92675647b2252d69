#include "process.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

namespace kiln::test {

std::string read_file(const std::string& path) {
    std::ifstream f(path, std::ios::binary);
    std::stringstream s;
    s << f.rdbuf();
    return s.str();
}

std::string scratch_dir() {
    static std::string dir = [] {
        char tmpl[] = "/tmp/kiln-e2e-XXXXXX";
        const char* d = mkdtemp(tmpl);
        if (d == nullptr) abort();
        std::string path(d);
        static std::string cleanup_path = path;
        atexit([] { std::filesystem::remove_all(cleanup_path); });
        return path;
    }();
    return dir;
}

RunResult run(const std::vector<std::string>& argv, const RunOptions& opts) {
    static int counter = 0;
    const std::string base = scratch_dir() + "/run" + std::to_string(getpid()) + "-" +
                             std::to_string(counter++);
    const std::string out_path = base + ".out", err_path = base + ".err";
    pid_t pid = fork();
    if (pid == 0) {
        int in = open(opts.stdin_path.c_str(), O_RDONLY);
        int out = open(out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
        int err = open(err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
        if (in < 0 || out < 0 || err < 0) _exit(126);
        dup2(in, 0);
        dup2(out, 1);
        dup2(err, 2);
        setpgid(0, 0);  // its own group, so a timeout ends it and its children
        // Caches (kiln's images, kiln-vmm's CPUID) stay in the scratch
        // directory, which goes away with the test, unless a test chooses.
        setenv("XDG_CACHE_HOME", (scratch_dir() + "/cache").c_str(), 1);
        for (auto& [k, v] : opts.env) setenv(k.c_str(), v.c_str(), 1);
        if (opts.as_nobody && geteuid() == 0) {
            if (setgid(65534) != 0 || setuid(65534) != 0) _exit(126);
        }
        std::vector<char*> args;
        for (auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
        args.push_back(nullptr);
        execvp(args[0], args.data());
        dprintf(2, "exec %s: %s\n", args[0], strerror(errno));
        _exit(127);
    }
    RunResult r;
    if (pid < 0) return r;
    int wstatus = 0;
    struct timespec start;
    clock_gettime(CLOCK_MONOTONIC, &start);
    bool signalled = false;
    for (;;) {
        pid_t w = waitpid(pid, &wstatus, WNOHANG);
        if (w == pid) break;
        if (opts.signal != 0 && !signalled &&
            read_file(out_path).find(opts.signal_after) != std::string::npos) {
            kill(pid, opts.signal);
            signalled = true;
        }
        struct timespec now;
        clock_gettime(CLOCK_MONOTONIC, &now);
        if (now.tv_sec - start.tv_sec >= opts.timeout_s) {
            r.timed_out = true;
            kill(-pid, SIGKILL);
            kill(pid, SIGKILL);
            waitpid(pid, &wstatus, 0);
            break;
        }
        usleep(2000);
    }
    if (WIFEXITED(wstatus)) r.status = WEXITSTATUS(wstatus);
    if (WIFSIGNALED(wstatus)) r.signal = WTERMSIG(wstatus);
    r.out = read_file(out_path);
    r.err = read_file(err_path);
    unlink(out_path.c_str());
    unlink(err_path.c_str());
    return r;
}

std::string kvm_unavailable_reason() {
    const char* dev = getenv("KILN_KVM_DEVICE");
    std::string path = dev ? dev : "/dev/kvm";
    int fd = open(path.c_str(), O_RDWR | O_CLOEXEC);
    if (fd < 0) return path + ": " + strerror(errno);
    close(fd);
    return "";
}

bool have_program(const std::string& name) {
    const char* path = getenv("PATH");
    std::stringstream dirs(path ? path : "/usr/bin:/bin");
    std::string d;
    while (std::getline(dirs, d, ':')) {
        if (access((d + "/" + name).c_str(), X_OK) == 0) return true;
    }
    return false;
}

int free_tcp_port() {
    int s = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a = {};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bind(s, reinterpret_cast<sockaddr*>(&a), sizeof(a));
    socklen_t len = sizeof(a);
    getsockname(s, reinterpret_cast<sockaddr*>(&a), &len);
    close(s);
    return ntohs(a.sin_port);
}

}  // namespace kiln::test
