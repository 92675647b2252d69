// The root file system of a kiln image, collected from the host and written
// as one cpio newc archive (cpio_writer.h).
//
// Host files keep their absolute paths in the image. Walking a path, every
// directory on the way becomes a directory entry and every symlink is
// stored as a symlink and then followed, so that /lib64/ld-linux-x86-64.so.2
// arrives as the same chain of links ending in the real file. --copy trees
// are stored as they are (symlinks inside them not followed).
#pragma once

#include <stdint.h>
#include <sys/stat.h>

#include <map>
#include <string>
#include <vector>

namespace kiln::cli {

struct ImageEntry {
    enum class Kind { kDir, kFile, kSymlink };
    Kind kind = Kind::kDir;
    std::string host;    // where the bytes come from; "" for a directory made up for the image
    std::string target;  // symlink target
    uint32_t mode = 0755;
    int64_t mtime = 0;
    uint64_t size = 0;
    bool keyed = false;  // its host lstat is part of the cache key
};

class ImageBuilder {
public:
    // Adds the host path `path` (absolute) at the same path in the image.
    bool add_host_path(const std::string& path, std::string* error);
    // Adds the host file or tree `src` at the absolute image path `dst`.
    bool add_copy(const std::string& src, const std::string& dst, std::string* error);

    // Entries by image path (no leading '/'), parents before children.
    const std::map<std::string, ImageEntry>& entries() const { return entries_; }
    // Host paths whose lstat() keys the image, in a stable order.
    std::vector<std::string> inputs() const;
    // Their lstat() results as taken while collecting, in inputs() order.
    std::vector<struct stat> input_stats() const;

    // Writes the archive; false with *error when a read or write fails.
    bool write(int fd, std::string* error) const;

private:
    bool walk(const std::string& path, int depth, std::string* error);
    bool copy_tree(const std::string& src, const std::string& dst, bool top, int depth,
                   std::string* error);
    // The image path for `dst` with symlinks among the image's entries
    // followed in its parent part, parents created as needed.
    bool place(const std::string& dst, std::string* out, std::string* error);
    void add(const std::string& image_path, ImageEntry e, const struct stat* st);

    std::map<std::string, ImageEntry> entries_;
    std::map<std::string, struct stat> stats_;  // by host path, keyed entries only
};

}  // namespace kiln::cli
