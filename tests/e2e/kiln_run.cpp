#include "kiln_run.h"

#include <sys/stat.h>
#include <unistd.h>

#include <fstream>

namespace kiln::test {

std::string write_file(const std::string& name, const std::string& data, mode_t mode) {
    std::string path = scratch_dir() + "/" + name;
    unlink(path.c_str());
    std::ofstream(path, std::ios::binary) << data;
    chmod(path.c_str(), mode);
    return path;
}

std::string cache_dir(const std::string& name) {
    std::string d = scratch_dir() + "/" + name;
    mkdir(d.c_str(), 0700);
    return d;
}

RunResult kiln_run(const std::vector<std::string>& args, RunOptions opts) {
    std::vector<std::string> argv = {KILN_PATH, "run"};
    argv.insert(argv.end(), args.begin(), args.end());
    bool has_cache = false;
    for (auto& [k, v] : opts.env) has_cache |= k == "XDG_CACHE_HOME";
    if (!has_cache) opts.env.push_back({"XDG_CACHE_HOME", cache_dir()});
    return run(argv, opts);
}

std::string describe(const RunResult& r) {
    return "status " + std::to_string(r.status) + (r.timed_out ? " (timed out)" : "") +
           "\n--- stdout ---\n" + r.out + "\n--- stderr ---\n" + r.err.substr(0, 4000);
}

}  // namespace kiln::test
