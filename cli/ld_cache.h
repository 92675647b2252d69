// A reader for glibc's /etc/ld.so.cache in the "glibc-ld.so.cache1.1"
// format that ldconfig has written since glibc 2.32 (and that older
// versions appended after the "ld.so-1.7.0" one). Layout, as ldconfig(8)
// writes it (glibc sysdeps/generic/dl-cache.h), all little-endian here:
//
//   header (48 bytes): magic "glibc-ld.so.cache" (17), version "1.1" (3),
//     u32 nlibs, u32 len_strings, u8 flags, 3 bytes padding,
//     u32 extension_offset, u32 unused[3]
//   nlibs entries (24 bytes): i32 flags, u32 key, u32 value, u32 osversion,
//     u64 hwcap
//   strings: key = library name (soname), value = its path; both are
//     offsets from the start of the new-format header.
//
// Only x86-64 libc6 entries count (flags 0x0303: FLAG_ELF_LIBC6 |
// FLAG_X8664_LIB64). ld.so takes the first matching entry of a name; entries
// for glibc-hwcaps subdirectories (hwcap != 0) are passed over in favour of
// the plain one, so the image does not depend on the CPU's feature level.
#pragma once

#include <stdint.h>

#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

namespace kiln::cli {

class LdCache {
public:
    // nullopt when `bytes` is not a cache in this format or is malformed
    // (any offset or count outside the data).
    static std::optional<LdCache> parse(std::string_view bytes);
    // Reads and parses a file; an empty cache when it is missing or invalid,
    // as ld.so treats it.
    static LdCache load(const std::string& path);

    // The path for library `name`, or "" when the cache has none.
    std::string lookup(std::string_view name) const;
    size_t size() const { return map_.size(); }

private:
    std::unordered_map<std::string, std::string> map_;
};

}  // namespace kiln::cli
