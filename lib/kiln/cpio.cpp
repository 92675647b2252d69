// cpio "new ASCII" (newc) reader; see cpio.h and cpio(5).
#include "kiln/cpio.h"

namespace kiln::cpio {
namespace {

constexpr size_t kFieldCount = 13;  // ino .. check, 8 hex digits each

bool parse_hex8(const uint8_t* p, uint32_t* out) {
    uint32_t v = 0;
    for (int i = 0; i < 8; i++) {
        uint8_t c = p[i];
        uint32_t d;
        if (c >= '0' && c <= '9')
            d = c - '0';
        else if (c >= 'a' && c <= 'f')
            d = c - 'a' + 10;
        else if (c >= 'A' && c <= 'F')
            d = c - 'A' + 10;
        else
            return false;
        v = v << 4 | d;
    }
    *out = v;
    return true;
}

// Rounds up to a multiple of four; false when that overflows.
bool align4(size_t v, size_t* out) {
    if (v > SIZE_MAX - 3) return false;
    *out = (v + 3) & ~size_t{3};
    return true;
}

bool name_is(Span<const char> name, const char* s) {
    size_t i = 0;
    for (; s[i] != '\0'; i++) {
        if (i >= name.size() || name[i] != s[i]) return false;
    }
    return i == name.size();
}

}  // namespace

size_t skip_padding(Bytes archive, size_t from) {
    size_t i = from;
    while (i < archive.size() && archive[i] == 0) i++;
    return i;
}

Result<bool> Reader::next(Entry* out) {
    if (failed_) return Error(Errno::kEINVAL);
    if (done_) return false;
    if (pos_ == archive_.size()) {
        done_ = true;
        return false;
    }
    failed_ = true;  // until this entry is known good
    if (!archive_.contains(pos_, kHeaderSize)) return Error(Errno::kEINVAL);
    const uint8_t* h = archive_.data() + pos_;
    static const char kMagic[] = "07070";
    for (int i = 0; i < 5; i++) {
        if (h[i] != kMagic[i]) return Error(Errno::kEINVAL);
    }
    if (h[5] != '1' && h[5] != '2') return Error(Errno::kEINVAL);

    uint32_t f[kFieldCount];
    for (size_t i = 0; i < kFieldCount; i++) {
        if (!parse_hex8(h + 6 + 8 * i, &f[i])) return Error(Errno::kEINVAL);
    }
    Entry e;
    e.ino = f[0];
    e.mode = f[1];
    e.uid = f[2];
    e.gid = f[3];
    e.nlink = f[4];
    e.mtime = f[5];
    uint32_t filesize = f[6];
    e.dev_major = f[7];
    e.dev_minor = f[8];
    e.rdev_major = f[9];
    e.rdev_minor = f[10];
    uint32_t namesize = f[11];

    // The name (namesize counts its NUL) follows the header; header plus
    // name is padded to a multiple of four.
    size_t name_off = pos_ + kHeaderSize;
    if (namesize < 2 || !archive_.contains(name_off, namesize)) return Error(Errno::kEINVAL);
    const char* name = reinterpret_cast<const char*>(archive_.data() + name_off);
    if (name[namesize - 1] != '\0') return Error(Errno::kEINVAL);
    for (size_t i = 0; i + 1 < namesize; i++) {
        if (name[i] == '\0') return Error(Errno::kEINVAL);
    }
    e.name = Span<const char>(name, namesize - 1);

    size_t data_off;
    if (!align4(name_off + namesize, &data_off)) return Error(Errno::kEINVAL);
    if (!archive_.contains(data_off, filesize)) return Error(Errno::kEINVAL);
    e.data = archive_.subspan(data_off, filesize);
    size_t end;
    if (!align4(data_off + filesize, &end)) return Error(Errno::kEINVAL);
    // The last entry's padding may be missing when the archive is cut
    // exactly at its data; anything past the end is not ours.
    if (end > archive_.size()) end = archive_.size();
    pos_ = end;
    failed_ = false;

    if (name_is(e.name, "TRAILER!!!")) {
        done_ = true;
        return false;
    }
    *out = e;
    return true;
}

}  // namespace kiln::cpio
