// Command-line network configuration (netconf.h).
#include "net/netconf.h"

#include "kiln/format.h"

namespace kiln::net {
namespace {

// The text up to `sep` (or the end) and what follows it.
Span<const char> take(Span<const char>* rest, char sep) {
    size_t i = 0;
    while (i < rest->size() && (*rest)[i] != sep) i++;
    Span<const char> head = rest->subspan(0, i);
    *rest = i < rest->size() ? rest->subspan(i + 1) : Span<const char>();
    return head;
}

bool parse_dec(Span<const char> t, uint32_t max, uint32_t* out) {
    if (t.size() == 0 || t.size() > 3) return false;
    uint32_t v = 0;
    for (char c : t) {
        if (c < '0' || c > '9') return false;
        v = v * 10 + uint32_t(c - '0');
    }
    if (v > max) return false;
    *out = v;
    return true;
}

int hex_digit(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

bool contains(Span<const char> t, char c) {
    for (char x : t) {
        if (x == c) return true;
    }
    return false;
}

}  // namespace

bool parse_ipv4(Span<const char> text, uint8_t out[4]) {
    Span<const char> rest = text;
    for (int i = 0; i < 4; i++) {
        if (rest.size() == 0) return false;
        Span<const char> part = take(&rest, '.');
        uint32_t v;
        if (!parse_dec(part, 255, &v)) return false;
        out[i] = uint8_t(v);
        if (i < 3 && rest.size() == 0) return false;
    }
    return rest.size() == 0 && (text.size() == 0 || text[text.size() - 1] != '.');
}

bool parse_ipv6(Span<const char> text, uint8_t out[16]) {
    uint16_t groups[8] = {};
    int count = 0;  // groups parsed
    int gap = -1;   // where "::" stands, in groups
    size_t i = 0;
    const size_t n = text.size();
    if (n == 0) return false;
    if (n >= 2 && text[0] == ':' && text[1] == ':') {
        gap = 0;
        i = 2;
    } else if (text[0] == ':') {
        return false;
    }
    while (i < n) {
        // A dotted quad takes the last two groups.
        size_t j = i;
        while (j < n && text[j] != ':') j++;
        Span<const char> part = text.subspan(i, j - i);
        if (contains(part, '.')) {
            if (j != n || count > 6) return false;
            uint8_t q[4];
            if (!parse_ipv4(part, q)) return false;
            groups[count++] = uint16_t(q[0] << 8 | q[1]);
            groups[count++] = uint16_t(q[2] << 8 | q[3]);
            i = n;
            break;
        }
        if (part.size() == 0 || part.size() > 4 || count >= 8) return false;
        uint32_t v = 0;
        for (char c : part) {
            int d = hex_digit(c);
            if (d < 0) return false;
            v = v * 16 + uint32_t(d);
        }
        groups[count++] = uint16_t(v);
        i = j;
        if (i == n) break;
        i++;  // the ':'
        if (i < n && text[i] == ':') {
            if (gap >= 0) return false;  // a second "::"
            gap = count;
            i++;
        } else if (i == n) {
            return false;  // a trailing single ':'
        }
    }
    if (gap < 0 && count != 8) return false;
    if (gap >= 0 && count > 7) return false;
    uint16_t full[8] = {};
    if (gap < 0) {
        for (int k = 0; k < 8; k++) full[k] = groups[k];
    } else {
        for (int k = 0; k < gap; k++) full[k] = groups[k];
        int tail = count - gap;
        for (int k = 0; k < tail; k++) full[8 - tail + k] = groups[gap + k];
    }
    for (int k = 0; k < 8; k++) {
        out[2 * k] = uint8_t(full[k] >> 8);
        out[2 * k + 1] = uint8_t(full[k]);
    }
    return true;
}

namespace {
bool ends_with_comma(Span<const char> t) {
    return t.size() > 0 && t[t.size() - 1] == ',';
}
}  // namespace

Result<Ipv4Config> parse_ipv4_config(Span<const char> text) {
    Ipv4Config c;
    if (ends_with_comma(text)) return Error(Errno::kEINVAL);
    Span<const char> rest = text;
    Span<const char> cidr = take(&rest, ',');
    Span<const char> addr = take(&cidr, '/');
    uint32_t prefix;
    if (!parse_ipv4(addr, c.addr) || !parse_dec(cidr, 32, &prefix)) return Error(Errno::kEINVAL);
    c.prefix_len = uint8_t(prefix);
    if (rest.size() > 0) {
        if (!parse_ipv4(take(&rest, ','), c.gateway)) return Error(Errno::kEINVAL);
        if (rest.size() > 0 && !parse_ipv4(take(&rest, ','), c.dns)) return Error(Errno::kEINVAL);
        if (rest.size() > 0) return Error(Errno::kEINVAL);
    }
    return c;
}

Result<Ipv6Config> parse_ipv6_config(Span<const char> text) {
    Ipv6Config c;
    if (ends_with_comma(text)) return Error(Errno::kEINVAL);
    Span<const char> rest = text;
    Span<const char> cidr = take(&rest, ',');
    Span<const char> addr = take(&cidr, '/');
    uint32_t prefix;
    if (!parse_ipv6(addr, c.addr) || !parse_dec(cidr, 128, &prefix)) return Error(Errno::kEINVAL);
    c.prefix_len = uint8_t(prefix);
    if (rest.size() > 0) {
        if (!parse_ipv6(take(&rest, ','), c.gateway)) return Error(Errno::kEINVAL);
        if (rest.size() > 0) return Error(Errno::kEINVAL);
    }
    return c;
}

size_t format_resolv_conf(const uint8_t dns[4], char* out, size_t cap) {
    return format(out, cap, "nameserver %u.%u.%u.%u\n", dns[0], dns[1], dns[2], dns[3]);
}

}  // namespace kiln::net
