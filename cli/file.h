// Small file and path helpers for the host tools.
#pragma once

#include <stdint.h>

#include <string>
#include <string_view>

namespace kiln::cli {

// Reads a whole (small) file; false when it cannot be opened or read.
bool read_whole_file(const std::string& path, std::string* out);

// A read-only mapping of a whole file, unmapped when destroyed.
class MappedFile {
public:
    MappedFile() = default;
    MappedFile(MappedFile&& o) noexcept;
    MappedFile& operator=(MappedFile&& o) noexcept;
    ~MappedFile();
    // "" on success, else the reason (strerror text).
    std::string open(const std::string& path);
    const uint8_t* data() const { return static_cast<const uint8_t*>(addr_); }
    size_t size() const { return size_; }

private:
    void* addr_ = nullptr;
    size_t size_ = 0;
};

// "/a/b/c" -> "/a/b"; "/a" -> "/"; "a" -> ".".
std::string dir_name(std::string_view path);
// Joins with exactly one '/' between.
std::string join_path(std::string_view a, std::string_view b);
// Removes "." and empty components and resolves ".." textually; keeps a
// leading '/'. Used only where no symlink can be in the way.
std::string normalize_path(std::string_view path);

}  // namespace kiln::cli
