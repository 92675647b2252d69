// `kiln run`'s command line:
//   kiln run [--mem SIZE] [-e KEY=VAL]... [--strace] [--copy SRC:DST]...
//            [--net user|tap:NAME|none] [-p SPEC]... [--mac MAC] PROGRAM [ARGS...]
// Options come before PROGRAM; everything after it is the program's.
#pragma once

#include <stdint.h>

#include <string>
#include <utility>
#include <vector>

namespace kiln::cli {

extern const char kRunUsage[];

struct CopySpec {
    std::string src;  // host path
    std::string dst;  // absolute path in the image, normalized
};

struct RunOptions {
    std::string mem;  // as given; "" = sized from the image
    uint64_t mem_bytes = 0;
    std::vector<std::string> env;  // KEY=VAL, in order
    bool strace = false;
    bool stats = false;  // --stats: kiln-vmm --stats and kiln.stats
    std::vector<CopySpec> copies;
    // Passed to kiln-vmm as given, after the same checks it makes
    // (vmm/net_options.h): --net, then each -p, then --mac.
    std::string net = "user";
    std::vector<std::string> publish;
    std::string mac;
    std::string ip;   // --ip: kiln.ip=... on the kernel command line
    std::string ip6;  // --ip6: kiln.ip6=...
    std::string program;
    std::vector<std::string> args;  // after PROGRAM
    bool help = false;
};

// Parses the words after "run". False with *error for bad usage (unknown
// option, missing value, bad size, malformed -e or --copy, no PROGRAM).
// `getenv_fn` supplies the value for "-e KEY" (Docker's pass-through form).
bool parse_run_options(const std::vector<std::string>& words, RunOptions* out, std::string* error,
                       const char* (*getenv_fn)(const char*) = nullptr);

// "64M", "1G", "512MiB", "1048576": bytes, or false.
bool parse_mem_size(const std::string& text, uint64_t* out);

}  // namespace kiln::cli
