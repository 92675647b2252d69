#include "image.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <string.h>
#include <unistd.h>

#include <algorithm>

#include "cpio_writer.h"
#include "file.h"

namespace kiln::cli {

namespace {

constexpr int kMaxSymlinks = 40;  // as Linux's path walk (MAXSYMLINKS)
constexpr int kMaxDepth = 256;

std::vector<std::string> components(const std::string& path) {
    std::vector<std::string> out;
    size_t i = 0;
    while (i <= path.size()) {
        size_t j = path.find('/', i);
        if (j == std::string::npos) j = path.size();
        if (j > i) out.push_back(path.substr(i, j - i));
        i = j + 1;
    }
    return out;
}

std::string read_link(const std::string& path, std::string* error) {
    std::string buf(PATH_MAX, '\0');
    ssize_t n = readlink(path.c_str(), buf.data(), buf.size());
    if (n < 0) {
        *error = path + ": " + strerror(errno);
        return "";
    }
    buf.resize(n);
    return buf;
}

ImageEntry entry(ImageEntry::Kind kind, const std::string& host, const std::string& target = "") {
    ImageEntry e;
    e.kind = kind;
    e.host = host;
    e.target = target;
    return e;
}

}  // namespace

void ImageBuilder::add(const std::string& image_path, ImageEntry e, const struct stat* st) {
    if (st != nullptr) {
        e.mode = st->st_mode & 07777;
        e.mtime = st->st_mtim.tv_sec;
        if (e.kind == ImageEntry::Kind::kFile) e.size = st->st_size;
    }
    if (e.keyed && st != nullptr) stats_[e.host] = *st;
    entries_[image_path] = std::move(e);
}

bool ImageBuilder::walk(const std::string& path, int depth, std::string* error) {
    if (depth > kMaxSymlinks) {
        *error = path + ": too many levels of symbolic links";
        return false;
    }
    std::vector<std::string> parts = components(path);
    std::string cur;  // "" is the root
    for (size_t i = 0; i < parts.size(); ++i) {
        const std::string& c = parts[i];
        if (c == ".") continue;
        if (c == "..") {
            size_t slash = cur.rfind('/');
            cur = slash == std::string::npos ? "" : cur.substr(0, slash);
            continue;
        }
        std::string next = cur + "/" + c;
        struct stat st;
        if (lstat(next.c_str(), &st) != 0) {
            *error = next + ": " + strerror(errno);
            return false;
        }
        std::string name(cpio_name(next));
        if (S_ISLNK(st.st_mode)) {
            std::string target = read_link(next, error);
            if (target.empty()) {
                if (error->empty()) *error = next + ": empty symlink";
                return false;
            }
            ImageEntry e = entry(ImageEntry::Kind::kSymlink, next, target);
            e.keyed = true;
            add(name, e, &st);
            std::string rest;
            for (size_t k = i + 1; k < parts.size(); ++k) rest += "/" + parts[k];
            std::string resolved =
                target[0] == '/' ? target : (cur.empty() ? "" : cur) + "/" + target;
            return walk(resolved + rest, depth + 1, error);
        }
        if (S_ISDIR(st.st_mode)) {
            if (!entries_.count(name)) add(name, entry(ImageEntry::Kind::kDir, next), &st);
            cur = next;
            continue;
        }
        if (!S_ISREG(st.st_mode)) {
            *error = next + ": not a regular file, directory or symlink";
            return false;
        }
        if (i + 1 != parts.size()) {
            *error = next + ": " + strerror(ENOTDIR);
            return false;
        }
        ImageEntry e = entry(ImageEntry::Kind::kFile, next);
        e.keyed = true;
        add(name, e, &st);
    }
    return true;
}

bool ImageBuilder::add_host_path(const std::string& path, std::string* error) {
    if (path.empty() || path[0] != '/') {
        *error = "internal: not an absolute path: " + path;
        return false;
    }
    return walk(path, 0, error);
}

bool ImageBuilder::place(const std::string& dst, std::string* out, std::string* error) {
    std::string path = dst;
    for (int links = 0; links <= kMaxSymlinks; ++links) {
        std::vector<std::string> parts = components(path);
        std::string cur;
        bool restarted = false;
        for (size_t i = 0; i + 1 < parts.size(); ++i) {
            std::string next = cur.empty() ? parts[i] : cur + "/" + parts[i];
            auto it = entries_.find(next);
            if (it == entries_.end()) {
                add(next, ImageEntry{}, nullptr);  // a directory only the image has
            } else if (it->second.kind == ImageEntry::Kind::kSymlink) {
                const std::string& t = it->second.target;
                std::string rest;
                for (size_t k = i + 1; k < parts.size(); ++k) rest += "/" + parts[k];
                path = normalize_path((t[0] == '/' ? t : "/" + cur + "/" + t) + rest);
                restarted = true;
                break;
            } else if (it->second.kind != ImageEntry::Kind::kDir) {
                *error =
                    "--copy destination " + dst + ": /" + next + " is already a file in the image";
                return false;
            }
            cur = next;
        }
        if (!restarted) {
            *out = std::string(cpio_name(path));
            return true;
        }
    }
    *error = "--copy destination " + dst + ": too many levels of symbolic links in the image";
    return false;
}

bool ImageBuilder::copy_tree(const std::string& src, const std::string& dst, bool top, int depth,
                             std::string* error) {
    if (depth > kMaxDepth) {
        *error = "--copy " + src + ": directories nested too deeply";
        return false;
    }
    struct stat st;
    // The top is followed if it is a symlink (as cp does with its argument).
    if ((top ? stat(src.c_str(), &st) : lstat(src.c_str(), &st)) != 0) {
        *error = "--copy " + src + ": " + strerror(errno);
        return false;
    }
    auto existing = entries_.find(dst);
    if (S_ISLNK(st.st_mode)) {
        std::string target = read_link(src, error);
        if (!error->empty()) return false;
        ImageEntry e = entry(ImageEntry::Kind::kSymlink, src, target);
        e.keyed = true;
        add(dst, e, &st);
        return true;
    }
    if (S_ISREG(st.st_mode)) {
        if (existing != entries_.end() && existing->second.kind == ImageEntry::Kind::kDir) {
            *error = "--copy " + src + ": /" + dst + " is already a directory in the image";
            return false;
        }
        ImageEntry e = entry(ImageEntry::Kind::kFile, src);
        e.keyed = true;
        // Read access is checked now, so that packing does not fail half-way.
        if (access(src.c_str(), R_OK) != 0) {
            *error = "--copy " + src + ": " + strerror(errno);
            return false;
        }
        add(dst, e, &st);
        return true;
    }
    if (!S_ISDIR(st.st_mode)) return true;  // sockets, fifos, devices: not carried
    if (existing != entries_.end() && existing->second.kind != ImageEntry::Kind::kDir) {
        *error = "--copy " + src + ": /" + dst + " is already a file in the image";
        return false;
    }
    // The directory's own lstat keys the image, so that added or removed
    // files in it make a new image.
    ImageEntry e = entry(ImageEntry::Kind::kDir, src);
    e.keyed = true;
    add(dst, e, &st);
    DIR* d = opendir(src.c_str());
    if (d == nullptr) {
        *error = "--copy " + src + ": " + strerror(errno);
        return false;
    }
    std::vector<std::string> names;
    while (struct dirent* de = readdir(d)) {
        if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0) {
            names.push_back(de->d_name);
        }
    }
    closedir(d);
    std::sort(names.begin(), names.end());
    for (const std::string& n : names) {
        if (!copy_tree(join_path(src, n), dst + "/" + n, false, depth + 1, error)) return false;
    }
    return true;
}

bool ImageBuilder::add_copy(const std::string& src, const std::string& dst, std::string* error) {
    std::string image_path;
    if (!place(dst, &image_path, error)) return false;
    return copy_tree(src, image_path, true, 0, error);
}

std::vector<std::string> ImageBuilder::inputs() const {
    std::vector<std::string> v;
    for (const auto& [host, st] : stats_) v.push_back(host);
    return v;
}

std::vector<struct stat> ImageBuilder::input_stats() const {
    std::vector<struct stat> v;
    for (const auto& [host, st] : stats_) v.push_back(st);
    return v;
}

bool ImageBuilder::write(int fd, std::string* error) const {
    CpioWriter w(fd);
    for (const auto& [name, e] : entries_) {
        bool ok = true;
        switch (e.kind) {
            case ImageEntry::Kind::kDir:
                ok = w.add_directory(name, e.mode, e.mtime);
                break;
            case ImageEntry::Kind::kSymlink:
                ok = w.add_symlink(name, e.target, e.mtime);
                break;
            case ImageEntry::Kind::kFile: {
                int src = open(e.host.c_str(), O_RDONLY | O_CLOEXEC);
                if (src < 0) {
                    *error = e.host + ": " + strerror(errno);
                    return false;
                }
                ok = w.add_file_from(name, e.mode, e.mtime, src, e.size);
                close(src);
                break;
            }
        }
        if (!ok) {
            *error = w.error();
            return false;
        }
    }
    if (!w.finish()) {
        *error = w.error();
        return false;
    }
    return true;
}

}  // namespace kiln::cli
