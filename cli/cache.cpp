#include "cache.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define XXH_INLINE_ALL
#include <xxhash.h>

#include "file.h"

namespace kiln::cli {

namespace {

// Streams typed fields into an XXH3-128 state; each string is preceded by
// its length so that different splits never hash alike.
class Hasher {
public:
    Hasher() { XXH3_128bits_reset(&state_); }
    void bytes(const void* p, size_t n) { XXH3_128bits_update(&state_, p, n); }
    void u64(uint64_t v) { bytes(&v, sizeof(v)); }
    void str(const std::string& s) {
        u64(s.size());
        bytes(s.data(), s.size());
    }
    void st(const struct stat& s) {
        u64(s.st_dev);
        u64(s.st_ino);
        u64(s.st_mode);
        u64(uint64_t(s.st_size));
        u64(uint64_t(s.st_mtim.tv_sec));
        u64(uint64_t(s.st_mtim.tv_nsec));
    }
    void copies(const std::vector<CopySpec>& c) {
        u64(c.size());
        for (const auto& cp : c) {
            str(cp.src);
            str(cp.dst);
        }
    }
    std::string hex() {
        XXH128_hash_t h = XXH3_128bits_digest(&state_);
        char out[33];
        snprintf(out, sizeof(out), "%016llx%016llx", (unsigned long long)h.high64,
                 (unsigned long long)h.low64);
        return out;
    }

private:
    XXH3_state_t state_;
};

bool make_dir(const std::string& path, std::string* error) {
    if (mkdir(path.c_str(), 0700) == 0 || errno == EEXIST) return true;
    *error = "cannot create the image cache directory " + path + ": " + strerror(errno);
    return false;
}

}  // namespace

bool ImageCache::locate(std::string* error) {
    const char* xdg = getenv("XDG_CACHE_HOME");
    if (xdg != nullptr && xdg[0] == '/') {
        root_ = join_path(xdg, "kiln");
        return true;
    }
    const char* home = getenv("HOME");
    if (home != nullptr && home[0] == '/') {
        root_ = join_path(home, ".cache/kiln");
        return true;
    }
    *error = "no place for the image cache: set XDG_CACHE_HOME or HOME to an absolute path";
    return false;
}

bool ImageCache::create_dirs(std::string* error) {
    // The parent (~/.cache) is made as XDG asks (0700) when it is missing.
    std::string parent = dir_name(root_);
    if (access(parent.c_str(), F_OK) != 0) {
        if (!make_dir(dir_name(parent), error) || !make_dir(parent, error)) return false;
    }
    return make_dir(root_, error) && make_dir(root_ + "/images", error) &&
           make_dir(root_ + "/index", error);
}

std::string ImageCache::index_key(const std::string& program, const struct stat& program_st,
                                  const std::vector<CopySpec>& copies) const {
    Hasher h;
    h.str(kImageFormat);
    h.str("index");
    h.str(program);
    h.st(program_st);
    h.copies(copies);
    return h.hex();
}

std::string ImageCache::image_key(const std::string& program, const std::vector<CopySpec>& copies,
                                  const std::vector<std::string>& inputs,
                                  const std::vector<struct stat>& stats) const {
    Hasher h;
    h.str(kImageFormat);
    h.str("image");
    h.str(program);
    h.copies(copies);
    h.u64(inputs.size());
    for (size_t i = 0; i < inputs.size(); ++i) {
        h.str(inputs[i]);
        h.st(stats[i]);
    }
    return h.hex();
}

bool ImageCache::read_index(const std::string& key, std::vector<std::string>* inputs) const {
    std::string data;
    if (!read_whole_file(index_path(key), &data)) return false;
    // NUL-terminated paths; a torn or empty file is no index.
    if (data.empty() || data.back() != '\0') return false;
    inputs->clear();
    size_t i = 0;
    while (i < data.size()) {
        size_t end = data.find('\0', i);
        inputs->push_back(data.substr(i, end - i));
        i = end + 1;
    }
    return true;
}

bool ImageCache::write_index(const std::string& key, const std::vector<std::string>& inputs,
                             std::string* error) const {
    std::string data;
    for (const auto& p : inputs) {
        data += p;
        data += '\0';
    }
    std::string final_path = index_path(key), temp;
    int fd = create_temp(final_path, &temp, error);
    if (fd < 0) return false;
    bool ok = ::write(fd, data.data(), data.size()) == ssize_t(data.size());
    if (close(fd) != 0) ok = false;
    if (!ok) {
        unlink(temp.c_str());
        *error = "cannot write " + temp;
        return false;
    }
    return commit_temp(temp, final_path, error);
}

int ImageCache::create_temp(const std::string& final_path, std::string* temp,
                            std::string* error) const {
    std::string tmpl = dir_name(final_path) + "/.tmp-XXXXXX";
    int fd = mkostemp(tmpl.data(), O_CLOEXEC);
    if (fd < 0) {
        *error = "cannot create a file in " + dir_name(final_path) + ": " + strerror(errno);
        return -1;
    }
    fchmod(fd, 0600);
    *temp = tmpl;
    return fd;
}

bool ImageCache::commit_temp(const std::string& temp, const std::string& final_path,
                             std::string* error) const {
    if (rename(temp.c_str(), final_path.c_str()) != 0) {
        *error = "cannot rename " + temp + " to " + final_path + ": " + strerror(errno);
        unlink(temp.c_str());
        return false;
    }
    return true;
}

}  // namespace kiln::cli
