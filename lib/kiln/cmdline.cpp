#include "kiln/cmdline.h"

namespace kiln {
namespace {

bool is_space(char c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

char lower(char c) {
    return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
}

bool equal_nocase(Span<const char> a, const char* b) {
    size_t i = 0;
    for (; i < a.size(); ++i) {
        if (b[i] == '\0' || lower(a[i]) != lower(b[i])) return false;
    }
    return b[i] == '\0';
}

Span<const char> strip_quotes(Span<const char> s) {
    if (s.size() >= 1 && s[0] == '"') s = s.subspan(1);
    if (s.size() >= 1 && s[s.size() - 1] == '"') s = s.subspan(0, s.size() - 1);
    return s;
}

int digit_value(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    c = lower(c);
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
}

// Parses the number at the start of text; *used gets the characters consumed.
Result<uint64_t> parse_number_prefix(Span<const char> text, size_t* used) {
    size_t i = 0;
    unsigned base = 10;
    if (text.size() >= 2 && text[0] == '0' && lower(text[1]) == 'x') {
        base = 16;
        i = 2;
    }
    size_t first = i;
    uint64_t v = 0;
    for (; i < text.size(); ++i) {
        int d = digit_value(text[i]);
        if (d < 0 || static_cast<unsigned>(d) >= base) break;
        if (v > (UINT64_MAX - static_cast<unsigned>(d)) / base) return Error(Errno::kERANGE);
        v = v * base + static_cast<unsigned>(d);
    }
    if (i == first) return Error(Errno::kEINVAL);
    *used = i;
    return v;
}

// Splits text at the first `sep`; false when there is none.
bool split(Span<const char> text, char sep, Span<const char>* head, Span<const char>* tail) {
    for (size_t i = 0; i < text.size(); ++i) {
        if (text[i] == sep) {
            *head = text.subspan(0, i);
            *tail = text.subspan(i + 1);
            return true;
        }
    }
    return false;
}

Result<uint32_t> parse_u32(Span<const char> text) {
    uint64_t v = TRY(parse_u64(text));
    if (v > UINT32_MAX) return Error(Errno::kERANGE);
    return static_cast<uint32_t>(v);
}

}  // namespace

bool CmdlineParams::next(CmdlineParam* param) {
    for (;;) {
        while (is_space(*p_)) ++p_;
        if (*p_ == '\0') return false;
        // A parameter runs to the next space outside double quotes.
        const char* start = p_;
        bool quoted = false;
        while (*p_ != '\0' && (quoted || !is_space(*p_))) {
            if (*p_ == '"') quoted = !quoted;
            ++p_;
        }
        Span<const char> word(start, static_cast<size_t>(p_ - start));
        if (word.size() == 2 && word[0] == '-' && word[1] == '-') {
            // Everything after a bare "--" belongs to the app; stay at the end.
            while (*p_ != '\0') ++p_;
            return false;
        }
        Span<const char> key;
        Span<const char> value;
        param->has_value = split(word, '=', &key, &value);
        if (!param->has_value) key = word;
        // Linux accepts quotes around the whole parameter ("key=a b") as well
        // as around the value (key="a b").
        if (key.size() >= 1 && key[0] == '"') {
            key = key.subspan(1);
            if (!param->has_value) key = strip_quotes(key);
        }
        param->key = key;
        param->value = param->has_value ? strip_quotes(value) : Span<const char>();
        if (key.empty()) continue;  // "=x" or '""': nothing to name
        return true;
    }
}

bool cmdline_key_equal(Span<const char> a, const char* b) {
    auto norm = [](char c) { return c == '-' ? '_' : c; };
    size_t i = 0;
    for (; i < a.size(); ++i) {
        if (b[i] == '\0' || norm(a[i]) != norm(b[i])) return false;
    }
    return b[i] == '\0';
}

bool cmdline_get(const char* cmdline, const char* key, Span<const char>* value) {
    bool found = false;
    CmdlineParams params(cmdline);
    CmdlineParam p;
    while (params.next(&p)) {
        if (p.has_value && cmdline_key_equal(p.key, key)) {
            if (value != nullptr) *value = p.value;
            found = true;
        }
    }
    return found;
}

bool cmdline_flag(const char* cmdline, const char* key) {
    bool set = false;
    CmdlineParams params(cmdline);
    CmdlineParam p;
    while (params.next(&p)) {
        if (!cmdline_key_equal(p.key, key)) continue;
        set = !p.has_value || equal_nocase(p.value, "") || equal_nocase(p.value, "y") ||
              equal_nocase(p.value, "yes") || equal_nocase(p.value, "1") ||
              equal_nocase(p.value, "on") || equal_nocase(p.value, "true");
    }
    return set;
}

Result<uint64_t> parse_u64(Span<const char> text) {
    size_t used = 0;
    uint64_t v = TRY(parse_number_prefix(text, &used));
    if (used != text.size()) return Error(Errno::kEINVAL);
    return v;
}

Result<uint64_t> parse_size(Span<const char> text) {
    size_t used = 0;
    uint64_t v = TRY(parse_number_prefix(text, &used));
    if (used == text.size()) return v;
    // In hex, a trailing 'e' or 'E' was already taken as a digit; 0x1E is 30.
    if (used + 1 != text.size()) return Error(Errno::kEINVAL);
    unsigned shift;
    switch (lower(text[used])) {
        case 'k':
            shift = 10;
            break;
        case 'm':
            shift = 20;
            break;
        case 'g':
            shift = 30;
            break;
        case 't':
            shift = 40;
            break;
        case 'p':
            shift = 50;
            break;
        case 'e':
            shift = 60;
            break;
        default:
            return Error(Errno::kEINVAL);
    }
    if (v > (UINT64_MAX >> shift)) return Error(Errno::kERANGE);
    return v << shift;
}

Result<VirtioMmioDevice> parse_virtio_mmio(Span<const char> value) {
    Span<const char> size_text;
    Span<const char> rest;
    if (!split(value, '@', &size_text, &rest)) return Error(Errno::kEINVAL);
    Span<const char> base_text;
    Span<const char> irq_text;
    if (!split(rest, ':', &base_text, &irq_text)) return Error(Errno::kEINVAL);
    Span<const char> id_text;
    bool has_id = split(irq_text, ':', &irq_text, &id_text);

    VirtioMmioDevice dev{};
    dev.size = TRY(parse_size(size_text));
    dev.base = TRY(parse_size(base_text));
    dev.irq = TRY(parse_u32(irq_text));
    dev.has_id = has_id;
    if (has_id) dev.id = TRY(parse_u32(id_text));
    if (dev.size == 0) return Error(Errno::kEINVAL);
    // The window may end exactly at 2^64, but not past it.
    if (dev.size - 1 > UINT64_MAX - dev.base) return Error(Errno::kERANGE);
    return dev;
}

bool VirtioMmioDevices::next() {
    CmdlineParam p;
    while (params_.next(&p)) {
        if (p.has_value && cmdline_key_equal(p.key, "virtio_mmio.device")) {
            raw_ = p.value;
            return true;
        }
    }
    raw_ = Span<const char>();
    return false;
}

}  // namespace kiln
