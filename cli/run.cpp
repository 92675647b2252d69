#include "run.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cache.h"
#include "deps.h"
#include "file.h"
#include "image.h"
#include "run_data.h"
#include "run_options.h"

extern char** environ;

namespace kiln::cli {

namespace {

constexpr uint64_t kMiB = 1ull << 20;
constexpr uint64_t kDefaultMem = 64 * kMiB;

int fail(const std::string& msg) {
    std::string line = "kiln run: " + msg + "\n";
    (void)!write(STDERR_FILENO, line.data(), line.size());
    return kStatusCannotRun;
}

bool is_executable_file(const std::string& path) {
    struct stat st;
    return stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode) && access(path.c_str(), X_OK) == 0;
}

std::string self_dir() {
    char buf[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", buf, sizeof(buf) - 1);
    if (n <= 0) return "";
    buf[n] = '\0';
    return dir_name(buf);
}

// KILN_VMM / KILN_KERNEL, else the build tree next to this binary
// (<build>/cli/kiln -> <build>/vmm/kiln-vmm, <build>/kernel/kiln-kernel),
// else beside it.
std::string find_part(const char* env, const char* build_rel, const char* sibling,
                      std::string* looked) {
    const char* e = getenv(env);
    if (e != nullptr && e[0] != '\0') {
        *looked = std::string("$") + env + " = " + e;
        return access(e, R_OK) == 0 ? e : "";
    }
    std::string dir = self_dir();
    std::string a = join_path(dir, build_rel), b = join_path(dir, sibling);
    *looked = a + " and " + b;
    if (access(a.c_str(), R_OK) == 0) return a;
    if (access(b.c_str(), R_OK) == 0) return b;
    return "";
}

// The per-run initrd: an anonymous memory file, passed to kiln-vmm as
// /proc/self/fd/N, so nothing is left behind whatever happens to kiln; a
// file in /tmp where memfd_create is missing.
struct RunData {
    int fd = -1;
    std::string path;       // what kiln-vmm opens
    std::string temp_path;  // to unlink afterwards, if any
    ~RunData() {
        if (!temp_path.empty()) unlink(temp_path.c_str());
    }
};

bool make_run_data(const std::vector<std::string>& argv, const std::vector<std::string>& env,
                   RunData* rd, std::string* error) {
    rd->fd = memfd_create("kiln-run-data", 0);  // inherited by kiln-vmm on purpose
    if (rd->fd >= 0) {
        rd->path = "/proc/self/fd/" + std::to_string(rd->fd);
    } else {
        char tmpl[] = "/tmp/kiln-run-XXXXXX";
        rd->fd = mkostemp(tmpl, O_CLOEXEC);
        if (rd->fd < 0) {
            *error = std::string("cannot create the per-run data file in /tmp: ") + strerror(errno);
            return false;
        }
        rd->path = rd->temp_path = tmpl;
    }
    if (!write_run_data(rd->fd, argv, env, error)) {
        *error = "cannot write the per-run data: " + *error;
        return false;
    }
    return true;
}

// Packs the image for `program`; returns its cache path or "".
std::string pack(const ImageCache& cache, const std::string& program, const RunOptions& opt,
                 const std::string& index_key, std::string* error, bool* bad_input) {
    *bad_input = true;
    std::string why = check_program(program);
    if (!why.empty()) {
        *error = program + ": " + why;
        return "";
    }
    Dependencies deps;
    if (!resolve_dependencies(program, SearchRules(), &deps, error)) return "";
    if (!deps.missing.empty()) {
        std::string list;
        for (const auto& m : deps.missing) list += "\n  " + m;
        *error = program + ": shared libraries not found:" + list +
                 "\n(install them on the host, or add them with --copy)";
        return "";
    }
    ImageBuilder image;
    std::vector<std::string> paths = {program};
    if (!deps.interp.empty()) paths.push_back(deps.interp);
    paths.insert(paths.end(), deps.libraries.begin(), deps.libraries.end());
    paths.insert(paths.end(), deps.config.begin(), deps.config.end());
    for (const auto& p : paths) {
        if (!image.add_host_path(p, error)) return "";
    }
    for (const auto& c : opt.copies) {
        if (!image.add_copy(c.src, c.dst, error)) return "";
    }
    *bad_input = false;
    std::vector<std::string> inputs = image.inputs();
    std::string key = cache.image_key(program, opt.copies, inputs, image.input_stats());
    std::string final_path = cache.image_path(key);
    if (access(final_path.c_str(), F_OK) != 0) {
        std::string temp;
        int fd = cache.create_temp(final_path, &temp, error);
        if (fd < 0) return "";
        bool ok = image.write(fd, error);
        if (close(fd) != 0 && ok) {
            ok = false;
            *error = "cannot write " + temp + ": " + strerror(errno);
        }
        if (!ok) {
            unlink(temp.c_str());
            *error = "packing the image failed: " + *error;
            return "";
        }
        if (!cache.commit_temp(temp, final_path, error)) return "";
    }
    if (!cache.write_index(index_key, inputs, error)) return "";
    return final_path;
}

// The cached image for the program when every input is unchanged, else "".
// Only lstat()s and one small read: no file contents.
std::string cached_image(const ImageCache& cache, const std::string& program, const RunOptions& opt,
                         const std::string& index_key) {
    std::vector<std::string> inputs;
    if (!cache.read_index(index_key, &inputs)) return "";
    std::vector<struct stat> stats(inputs.size());
    for (size_t i = 0; i < inputs.size(); ++i) {
        if (lstat(inputs[i].c_str(), &stats[i]) != 0) return "";
    }
    std::string path = cache.image_path(cache.image_key(program, opt.copies, inputs, stats));
    return access(path.c_str(), R_OK) == 0 ? path : "";
}

volatile sig_atomic_t g_child = 0;
volatile sig_atomic_t g_pending = 0;

void forward_signal(int sig) {
    if (g_child > 0) {
        kill(g_child, sig);
    } else {
        g_pending = sig;
    }
}

constexpr int kForwarded[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT};

}  // namespace

std::string find_program(const std::string& name, std::string* error) {
    if (name.empty()) {
        *error = "PROGRAM is empty";
        return "";
    }
    std::string path;
    if (name.find('/') != std::string::npos) {
        path = name;
        if (path[0] != '/') {
            char cwd[PATH_MAX];
            if (getcwd(cwd, sizeof(cwd)) == nullptr) {
                *error = std::string("cannot get the working directory: ") + strerror(errno);
                return "";
            }
            path = join_path(cwd, path);
        }
        struct stat st;
        if (stat(path.c_str(), &st) != 0) {
            *error = name + ": " + strerror(errno);
            return "";
        }
    } else {
        const char* env = getenv("PATH");
        std::string list = env != nullptr ? env : "/usr/local/bin:/usr/bin:/bin";
        bool seen = false;
        size_t i = 0;
        while (i <= list.size()) {
            size_t j = list.find(':', i);
            if (j == std::string::npos) j = list.size();
            std::string dir = list.substr(i, j - i);
            if (dir.empty()) dir = ".";
            std::string cand = join_path(dir, name);
            if (is_executable_file(cand)) {
                path = cand;
                break;
            }
            struct stat st;
            if (stat(cand.c_str(), &st) == 0 && S_ISREG(st.st_mode)) seen = true;
            i = j + 1;
        }
        if (path.empty()) {
            *error = "'" + name + "'" +
                     (seen ? " is in $PATH but not executable" : " not found in $PATH");
            return "";
        }
        if (path[0] != '/') {
            char cwd[PATH_MAX];
            if (getcwd(cwd, sizeof(cwd)) == nullptr) return "";
            path = join_path(cwd, path);
        }
    }
    // The path in the image: clean, and without ".." (which only the real
    // directory tree can resolve).
    if (path.find("/..") != std::string::npos) {
        char real[PATH_MAX];
        if (realpath(path.c_str(), real) != nullptr) path = real;
    }
    return normalize_path(path);
}

int run_command(const std::vector<std::string>& words) {
    RunOptions opt;
    std::string error;
    if (!parse_run_options(words, &opt, &error,
                           [](const char* k) -> const char* { return getenv(k); })) {
        return fail(error + "\n" +
                    "usage: kiln run [OPTIONS] PROGRAM [ARGS...] (see kiln run --help)");
    }
    if (opt.help) {
        (void)!write(STDOUT_FILENO, kRunUsage, strlen(kRunUsage));
        return 0;
    }
    std::string program = find_program(opt.program, &error);
    if (program.empty()) return fail(error);
    struct stat program_st;
    if (lstat(program.c_str(), &program_st) != 0) return fail(program + ": " + strerror(errno));
    if (!is_executable_file(program)) {
        std::string why = check_program(program);
        return fail(program + ": " + (why.empty() ? "is not executable" : why));
    }

    std::string vmm_looked, kernel_looked;
    std::string vmm = find_part("KILN_VMM", "../vmm/kiln-vmm", "kiln-vmm", &vmm_looked);
    if (vmm.empty())
        return fail("cannot find kiln-vmm (looked at " + vmm_looked + "); set KILN_VMM");
    std::string kernel =
        find_part("KILN_KERNEL", "../kernel/kiln-kernel", "kiln-kernel", &kernel_looked);
    if (kernel.empty()) {
        return fail("cannot find the kiln kernel (looked at " + kernel_looked +
                    "); set KILN_KERNEL");
    }

    ImageCache cache;
    if (!cache.locate(&error)) return fail(error);
    for (const auto& c : opt.copies) {
        // A missing --copy source is bad input even when an index exists.
        struct stat st;
        if (stat(c.src.c_str(), &st) != 0) return fail("--copy " + c.src + ": " + strerror(errno));
    }
    std::string index_key = cache.index_key(program, program_st, opt.copies);
    std::string image = cached_image(cache, program, opt, index_key);
    if (image.empty()) {
        if (!cache.create_dirs(&error)) return fail(error);
        bool bad_input = false;
        image = pack(cache, program, opt, index_key, &error, &bad_input);
        if (image.empty()) return fail(error);
    }

    std::vector<std::string> argv = {program};
    argv.insert(argv.end(), opt.args.begin(), opt.args.end());
    RunData rd;
    if (!make_run_data(argv, run_environment(opt.env), &rd, &error)) return fail(error);

    std::string mem = opt.mem;
    if (mem.empty()) {
        // Room for the archives and what the kernel unpacks from them.
        struct stat st;
        uint64_t size = stat(image.c_str(), &st) == 0 ? uint64_t(st.st_size) : 0;
        uint64_t want = 2 * size + 48 * kMiB;
        want = want < kDefaultMem ? kDefaultMem : (want + kMiB - 1) & ~(kMiB - 1);
        mem = std::to_string(want / kMiB) + "M";
    }
    std::string cmdline = opt.strace ? "kiln.strace quiet" : "quiet";
    if (opt.stats) cmdline += " kiln.stats";
    if (!opt.ip.empty()) cmdline += " kiln.ip=" + opt.ip;
    if (!opt.ip6.empty()) cmdline += " kiln.ip6=" + opt.ip6;
    std::vector<std::string> vmm_args = {vmm,        "--mem", mem,        "--cmdline", cmdline,
                                         "--initrd", image,   "--initrd", rd.path,     "--net",
                                         opt.net};
    for (const auto& p : opt.publish) vmm_args.insert(vmm_args.end(), {"-p", p});
    if (!opt.mac.empty()) vmm_args.insert(vmm_args.end(), {"--mac", opt.mac});
    if (opt.stats) vmm_args.push_back("--stats");
    vmm_args.push_back(kernel);
    std::vector<char*> cargs;
    for (auto& a : vmm_args) cargs.push_back(a.data());
    cargs.push_back(nullptr);

    // With the per-run data in a memfd nothing needs cleaning up afterwards,
    // so kiln becomes kiln-vmm: one process less to start and to wait for,
    // and signals (Ctrl-C) reach the monitor directly.
    if (rd.temp_path.empty()) {
        execv(vmm.c_str(), cargs.data());
        return fail("cannot start " + vmm + ": " + strerror(errno));
    }

    struct sigaction sa = {};
    sa.sa_handler = forward_signal;
    sa.sa_flags = SA_RESTART;
    sigemptyset(&sa.sa_mask);
    for (int s : kForwarded) sigaction(s, &sa, nullptr);

    posix_spawnattr_t attr;
    posix_spawnattr_init(&attr);
    sigset_t defaults;
    sigemptyset(&defaults);
    for (int s : kForwarded) sigaddset(&defaults, s);
    posix_spawnattr_setsigdefault(&attr, &defaults);
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGDEF);
    pid_t pid;
    int err = posix_spawn(&pid, vmm.c_str(), nullptr, &attr, cargs.data(), environ);
    posix_spawnattr_destroy(&attr);
    if (err != 0) return fail("cannot start " + vmm + ": " + strerror(err));
    g_child = pid;
    if (g_pending != 0) kill(pid, g_pending);

    int status = 0;
    while (waitpid(pid, &status, 0) < 0) {
        if (errno != EINTR) return fail(std::string("waitpid: ") + strerror(errno));
    }
    if (WIFEXITED(status)) return WEXITSTATUS(status);
    if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
    return kStatusCannotRun;
}

}  // namespace kiln::cli
