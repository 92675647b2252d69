// A reader for cpio archives in the "new ASCII" format (magic "070701",
// and "070702" whose checksum field is ignored), as cpio(5) describes it and
// as Linux's initramfs buffer format uses it: a 110-byte header of 8-digit
// hex fields, the NUL-terminated name, padding to a multiple of four, the
// file data, padding to a multiple of four. "TRAILER!!!" ends an archive.
//
// The archive is attacker-controlled input: every length is checked against
// the span, without overflow, and nothing is copied (names and data are
// sub-spans of the archive).
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "kiln/result.h"
#include "kiln/span.h"

namespace kiln::cpio {

inline constexpr size_t kHeaderSize = 110;

struct Entry {
    Span<const char> name;  // without the terminating NUL; never empty
    uint32_t ino = 0;
    uint32_t mode = 0;  // file type and permission bits (S_IF* | 07777)
    uint32_t uid = 0;
    uint32_t gid = 0;
    uint32_t nlink = 0;
    uint32_t mtime = 0;
    uint32_t dev_major = 0, dev_minor = 0;
    uint32_t rdev_major = 0, rdev_minor = 0;
    Bytes data;  // the file's bytes (a symlink's target for S_IFLNK)
};

class Reader {
public:
    explicit Reader(Bytes archive) : archive_(archive) {}

    // Reads the next entry into *out: true when there is one, false at the
    // trailer or when the archive ends exactly between entries. EINVAL for a
    // bad magic, a non-hex field, a name without its NUL or with an inner NUL,
    // and any size that runs past the end of the archive. After false or an
    // error, further calls repeat that answer.
    Result<bool> next(Entry* out);

    // Bytes consumed so far (just past the trailer's padding after false):
    // where a following, concatenated archive would start.
    size_t offset() const { return pos_; }

private:
    Bytes archive_;
    size_t pos_ = 0;
    bool done_ = false;
    bool failed_ = false;
};

// Where the next archive of a concatenation starts at or after `from`: NUL
// padding between archives is skipped. Returns archive.size() when only
// padding (or nothing) is left.
size_t skip_padding(Bytes archive, size_t from);

}  // namespace kiln::cpio
