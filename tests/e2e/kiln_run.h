// `kiln run` as the end-to-end tests call it: each test binary shares one
// image cache, so an image is packed once per run of the suite.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

#include "process.h"

namespace kiln::test {

constexpr int kStatusCannotRun = 125;  // kiln's own failure, before or instead of a boot

// `kiln run ARGS...`, with XDG_CACHE_HOME set to the shared cache unless
// opts.env sets it.
RunResult kiln_run(const std::vector<std::string>& args, RunOptions opts = {});

// The image cache of this test binary (shared by its tests), or a fresh one.
std::string cache_dir(const std::string& name = "cache");

// Writes a file into the scratch directory; returns its path.
std::string write_file(const std::string& name, const std::string& data, mode_t mode = 0644);

// Status, stdout and the start of stderr, for a failed expectation.
std::string describe(const RunResult& r);

inline bool contains(const std::string& s, const std::string& part) {
    return s.find(part) != std::string::npos;
}

}  // namespace kiln::test
