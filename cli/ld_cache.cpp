#include "ld_cache.h"

#include <string.h>

#include "file.h"

namespace kiln::cli {

namespace {

constexpr std::string_view kMagicNew = "glibc-ld.so.cache1.1";
constexpr std::string_view kMagicOld = "ld.so-1.7.0";
constexpr size_t kHeaderNew = 48;
constexpr size_t kEntryNew = 24;
constexpr size_t kHeaderOld = 16;  // magic (11 + NUL) and u32 nlibs
constexpr size_t kEntryOld = 12;   // i32 flags, u32 key, u32 value
constexpr int32_t kFlagTypeMask = 0x00ff;
constexpr int32_t kFlagElfLibc6 = 0x0003;
constexpr int32_t kFlagRequiredMask = 0xff00;
constexpr int32_t kFlagX8664Lib64 = 0x0300;

uint32_t le32(std::string_view b, size_t off) {
    uint32_t v;
    memcpy(&v, b.data() + off, 4);
    return v;
}
uint64_t le64(std::string_view b, size_t off) {
    uint64_t v;
    memcpy(&v, b.data() + off, 8);
    return v;
}

// The NUL-terminated string at `off` in `b`, or nullopt when it runs out.
std::optional<std::string_view> string_at(std::string_view b, uint64_t off) {
    if (off >= b.size()) return std::nullopt;
    size_t end = b.find('\0', off);
    if (end == std::string_view::npos) return std::nullopt;
    return b.substr(off, end - off);
}

}  // namespace

std::optional<LdCache> LdCache::parse(std::string_view bytes) {
    std::string_view b = bytes;
    if (b.substr(0, kMagicOld.size()) == kMagicOld) {
        // The old format first; the new one follows, 8-byte aligned.
        if (b.size() < kHeaderOld) return std::nullopt;
        uint64_t skip = kHeaderOld + uint64_t(le32(b, 12)) * kEntryOld;
        skip = (skip + 7) & ~uint64_t(7);
        if (skip > b.size()) return std::nullopt;
        b = b.substr(skip);
    }
    if (b.size() < kHeaderNew || b.substr(0, kMagicNew.size()) != kMagicNew) return std::nullopt;
    uint64_t nlibs = le32(b, 20);
    if (nlibs > (b.size() - kHeaderNew) / kEntryNew) return std::nullopt;
    LdCache cache;
    std::unordered_map<std::string, bool> hwcap_only;  // names so far only from hwcap entries
    for (uint64_t i = 0; i < nlibs; ++i) {
        size_t e = kHeaderNew + i * kEntryNew;
        int32_t flags = int32_t(le32(b, e));
        auto key = string_at(b, le32(b, e + 4));
        auto value = string_at(b, le32(b, e + 8));
        uint64_t hwcap = le64(b, e + 16);
        if (!key || !value) return std::nullopt;
        if ((flags & kFlagTypeMask) != kFlagElfLibc6) continue;
        if ((flags & kFlagRequiredMask) != kFlagX8664Lib64) continue;
        std::string k(*key);
        auto it = cache.map_.find(k);
        if (it == cache.map_.end()) {
            cache.map_.emplace(k, std::string(*value));
            hwcap_only[k] = hwcap != 0;
        } else if (hwcap == 0 && hwcap_only[k]) {
            it->second = std::string(*value);
            hwcap_only[k] = false;
        }
    }
    return cache;
}

LdCache LdCache::load(const std::string& path) {
    std::string data;
    if (!read_whole_file(path, &data)) return LdCache();
    auto c = parse(data);
    return c ? std::move(*c) : LdCache();
}

std::string LdCache::lookup(std::string_view name) const {
    auto it = map_.find(std::string(name));
    return it == map_.end() ? std::string() : it->second;
}

}  // namespace kiln::cli
