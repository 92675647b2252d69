// The image cache: packed images by content key, so that a second run of
// the same program does no packing and reads no file contents.
//
//   $XDG_CACHE_HOME/kiln/ (else ~/.cache/kiln/), mode 0700
//     images/<key>.cpio   an image; key = XXH3-128 over the kiln image
//                         format version, the program's path, the --copy
//                         list, and each input's path, size, mtime, inode,
//                         device and mode (lstat)
//     index/<key>         the input paths of the last image packed for a
//                         program: key = XXH3-128 over the format version,
//                         the program's path and lstat, and the --copy list
//
// A run with a cached image: lstat the program, read its index, lstat each
// input, hash, and find images/<key>.cpio. Anything missing or changed
// means packing again. Files are written to a temporary name in the same
// directory and renamed into place, so concurrent runs never see half an
// image and the last writer wins with identical content.
#pragma once

#include <sys/stat.h>

#include <string>
#include <vector>

#include "run_options.h"

namespace kiln::cli {

// Bump when the packing changes what an image holds for the same inputs.
inline constexpr const char kImageFormat[] = "kiln-image-1";

class ImageCache {
public:
    // Finds the cache directory (not created yet). False with *error when
    // neither XDG_CACHE_HOME nor HOME gives one.
    bool locate(std::string* error);
    // Creates kiln/, images/ and index/ (0700).
    bool create_dirs(std::string* error);

    std::string index_key(const std::string& program, const struct stat& program_st,
                          const std::vector<CopySpec>& copies) const;
    std::string image_key(const std::string& program, const std::vector<CopySpec>& copies,
                          const std::vector<std::string>& inputs,
                          const std::vector<struct stat>& stats) const;

    std::string image_path(const std::string& key) const {
        return root_ + "/images/" + key + ".cpio";
    }
    std::string index_path(const std::string& key) const { return root_ + "/index/" + key; }
    const std::string& root() const { return root_; }

    // The inputs listed in an index, or false when there is none.
    bool read_index(const std::string& key, std::vector<std::string>* inputs) const;
    bool write_index(const std::string& key, const std::vector<std::string>& inputs,
                     std::string* error) const;

    // A temporary file next to `final_path`; returns its fd and name.
    int create_temp(const std::string& final_path, std::string* temp, std::string* error) const;
    // fsync-free rename into place (the cache can always be rebuilt).
    bool commit_temp(const std::string& temp, const std::string& final_path,
                     std::string* error) const;

private:
    std::string root_;
};

}  // namespace kiln::cli
