// syscall-bench-driver: bench/syscall and, with --sched, bench/sched (make
// bench, after boot-bench). Runs the syscall-bench program natively and under
// `kiln run --mem 1G`, the two interleaved in one run, and prints each
// benchmark's best and median on both sides and the kiln/native ratio. See
// bench/README.md.
#include <sys/stat.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <iterator>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "spawn.h"

namespace kiln::bench {
namespace {

constexpr int kTimeoutMs = 120'000;

// The benchmarks syscall_bench.c prints, in its order.
struct Benchmark {
    const char* name;
    const char* label;
    const char* unit;
    bool throughput;  // more is better (MB/s, per second) rather than time per op
};
constexpr Benchmark kSyscallBenchmarks[] = {
    {"getpid", "getpid (raw syscall)", "ns/op", false},
    {"clock_gettime", "clock_gettime MONOTONIC", "ns/op", false},
    {"open_read_close", "open+read 4K+close", "ns/op", false},
    {"write_256m", "write 256 MiB+fsync", "MB/s", true},
    {"pipe_round_trip", "pipe write+read 1 B", "ns/op", false},
    {"eventfd_epoll_wait", "eventfd+epoll_wait+read", "ns/op", false},
    {"timerfd_wakeup_late", "timerfd 1 ms, wake late", "ns/op", false},
};
// syscall-bench --sched: two threads each.
constexpr Benchmark kSchedBenchmarks[] = {
    {"futex_pingpong", "futex ping-pong", "rt/s", true},
    {"thread_create_join", "pthread_create+join", "thr/s", true},
    {"pipe_pingpong", "pipe ping-pong 1 B", "ns/rt", false},
    {"epoll_wakeup", "eventfd->epoll_wait wake", "ns", false},
};
std::vector<Benchmark> kBenchmarks(std::begin(kSyscallBenchmarks), std::end(kSyscallBenchmarks));

struct Options {
    std::string build = "build";
    std::string program;  // default: BUILD/bench/syscall-bench
    std::string mem = "1G";
    std::string native_dir = "/tmp";
    int runs = 5;
    bool sched = false;
};

struct Side {
    std::string name;
    std::vector<std::string> argv;
    std::map<std::string, std::vector<double>> values;  // benchmark -> one value per run
    std::map<std::string, std::string> failures;        // benchmark -> its FAILED line
    std::string broken;                                 // the whole side failed
};

bool exists(const std::string& path) {
    struct stat st;
    return stat(path.c_str(), &st) == 0;
}

std::string join(const std::vector<std::string>& argv) {
    std::string s;
    for (const auto& a : argv) s += (s.empty() ? "" : " ") + a;
    return s;
}

double median(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    size_t n = v.size();
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

// One run of a side: its stdout lines "NAME VALUE UNIT" or "NAME FAILED: why".
// A benchmark that failed keeps its first failure and takes no more values.
void run_once(Side& s) {
    RunResult r = run_program(s.argv, Output::Capture, kTimeoutMs);
    std::istringstream lines(r.out);
    std::string line;
    int seen = 0;
    while (std::getline(lines, line)) {
        std::istringstream words(line);
        std::string name, value, unit;
        if (!(words >> name >> value)) continue;
        if (value == "FAILED:") {
            s.failures.emplace(name, line);
            seen++;
        } else if (words >> unit) {
            char* end = nullptr;
            double v = strtod(value.c_str(), &end);
            if (end && *end == '\0' && v > 0 && !s.failures.count(name))
                s.values[name].push_back(v);
            seen++;
        }
    }
    if (seen == 0 || (!r.exited_with(0) && !r.exited_with(1))) {
        // No result lines, or a crash, a timeout, or kiln's own 125: say why.
        std::string why = describe(r, kTimeoutMs);
        fprintf(stderr, "syscall-bench: %s run failed: %s\n  command: %s\n", s.name.c_str(),
                why.c_str(), join(s.argv).c_str());
        if (!r.out.empty()) fprintf(stderr, "  stdout:\n%s\n", r.out.substr(0, 2000).c_str());
        if (!r.err.empty()) fprintf(stderr, "  stderr:\n%s\n", r.err.substr(0, 2000).c_str());
        if (seen == 0) s.broken = "FAILED: " + why;
        for (const auto& b : kBenchmarks)
            if (!s.values.count(b.name) && !s.failures.count(b.name))
                s.failures.emplace(b.name, std::string(b.name) + " no result (" + why + ")");
    }
}

// A side's best and median of one benchmark; false, with why, when it has none.
bool summary(const Side& s, const Benchmark& b, double* best, double* med, std::string* why) {
    auto f = s.failures.find(b.name);
    auto v = s.values.find(b.name);
    if (f != s.failures.end() || v == s.values.end() || v->second.empty()) {
        *why = f != s.failures.end() ? f->second : (s.broken.empty() ? "no result" : s.broken);
        return false;
    }
    const auto& x = v->second;
    *best = b.throughput ? *std::max_element(x.begin(), x.end())
                         : *std::min_element(x.begin(), x.end());
    *med = median(x);
    return true;
}

// bench/sched's idle check: a program that sleeps 10 s in kiln, with the
// counters of kiln run --stats — the kernel's halts and timer interrupts
// (no tick: one of each per wake-up the program asked for) and the VM exits
// kiln-vmm saw. Returns non-zero when it could not run.
int print_idle(const std::string& kiln_cli, const std::string& program) {
    std::vector<std::string> argv = {kiln_cli, "run", "--stats", "--net", "none", program,
                                     "--sleep", "10"};
    RunResult r = run_program(argv, Output::Capture, kTimeoutMs);
    auto line = [&r](const char* prefix) {
        size_t at = r.err.find(prefix);
        if (at == std::string::npos) return std::string("(missing)");
        size_t end = r.err.find('\n', at);
        return r.err.substr(at, end == std::string::npos ? std::string::npos : end - at);
    };
    printf("\nidle guest, sleeping 10 s (%s):\n  %s\n  %s\n", join(argv).c_str(),
           line("kiln stats:").c_str(), line("kiln-vmm stats:").c_str());
    if (!r.exited_with(0)) {
        printf("  idle run failed: %s\n", describe(r, kTimeoutMs).c_str());
        return 1;
    }
    return 0;
}

int print_table(const Side& native, const Side& kiln, int runs) {
    printf("%s: %d runs per side, native and kiln interleaved; best / median\n\n",
           kBenchmarks.size() == std::size(kSchedBenchmarks) ? "sched-bench" : "syscall-bench", runs);
    printf("%-24s %-6s %21s %21s %12s\n", "benchmark", "unit", "native", "kiln", "kiln/native");
    int failed = 0;
    for (const auto& b : kBenchmarks) {
        double nb = 0, nm = 0, kb = 0, km = 0;
        std::string nwhy, kwhy;
        bool n_ok = summary(native, b, &nb, &nm, &nwhy);
        bool k_ok = summary(kiln, b, &kb, &km, &kwhy);
        char ncol[64] = "FAILED", kcol[64] = "FAILED", ratio[32] = "-";
        if (n_ok) snprintf(ncol, sizeof ncol, "%9.1f / %-9.1f", nb, nm);
        if (k_ok) snprintf(kcol, sizeof kcol, "%9.1f / %-9.1f", kb, km);
        // The ratio is of cost (time): for throughput, native MB/s over kiln's.
        if (n_ok && k_ok) snprintf(ratio, sizeof ratio, "%.2fx", b.throughput ? nm / km : km / nm);
        printf("%-24s %-6s %21s %21s %12s\n", b.label, b.unit, ncol, kcol, ratio);
        if (!n_ok) printf("    native: %s\n", nwhy.c_str());
        if (!k_ok) printf("    kiln:   %s\n", kwhy.c_str());
        failed |= !n_ok || !k_ok;
    }
    printf(
        "\nkiln/native is the ratio of medians as a cost: time per op, or native over kiln\n"
        "for a rate (MB/s, round trips or threads per second); above 1 means kiln is slower.\n");
    return failed;
}

int usage() {
    fprintf(stderr,
            "usage: syscall-bench-driver [--build DIR] [--runs N] [--mem SIZE] [--program PATH]\n"
            "                            [--native-dir DIR] [--sched]\n");
    return 2;
}

}  // namespace
}  // namespace kiln::bench

int main(int argc, char** argv) {
    using namespace kiln::bench;
    Options o;
    for (int i = 1; i < argc; i++) {
        std::string a = argv[i];
        bool has_value = i + 1 < argc;
        if (a == "--build" && has_value)
            o.build = argv[++i];
        else if (a == "--runs" && has_value)
            o.runs = atoi(argv[++i]);
        else if (a == "--mem" && has_value)
            o.mem = argv[++i];
        else if (a == "--program" && has_value)
            o.program = argv[++i];
        else if (a == "--native-dir" && has_value)
            o.native_dir = argv[++i];
        else if (a == "--sched")
            o.sched = true;
        else
            return usage();
    }
    if (o.runs < 1) return usage();
    if (o.program.empty()) o.program = o.build + "/bench/syscall-bench";
    const std::string kiln_cli = o.build + "/cli/kiln";
    for (const std::string& p : {o.program, kiln_cli}) {
        if (!exists(p)) {
            fprintf(stderr, "syscall-bench: missing: %s\n", p.c_str());
            return 1;
        }
    }

    // In kiln /tmp lives in guest memory, so the 256 MiB file needs --mem of
    // more than that on top of the program and the kernel.
    Side native{"native", {o.program, "--dir", o.native_dir}, {}, {}, {}};
    Side kiln{"kiln", {kiln_cli, "run", "--mem", o.mem, o.program}, {}, {}, {}};
    if (o.sched) {  // bench/sched: the program's other group, same sides
        kBenchmarks.assign(std::begin(kSchedBenchmarks), std::end(kSchedBenchmarks));
        native.argv.push_back("--sched");
        kiln.argv.push_back("--sched");
    }
    // One untimed kiln run first packs and caches the image.
    run_program(kiln.argv, Output::Discard, kTimeoutMs);
    for (int i = 0; i < o.runs; i++) {
        for (Side* s : {&native, &kiln})
            if (s->broken.empty()) run_once(*s);
    }
    int failed = print_table(native, kiln, o.runs);
    if (o.sched) failed |= print_idle(kiln_cli, o.program);
    printf("\ncommands:\n  native  %s\n  kiln    %s\n", join(native.argv).c_str(),
           join(kiln.argv).c_str());
    fflush(stdout);
    return failed;
}
