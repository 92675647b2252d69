#include "net_options.h"

#include <arpa/inet.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

namespace kiln::vmm {

namespace {

bool fail(char* err, size_t err_len, const char* fmt, ...) __attribute__((format(printf, 3, 4)));
bool fail(char* err, size_t err_len, const char* fmt, ...) {
    if (err_len > 0) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, err_len, fmt, ap);
        va_end(ap);
    }
    return false;
}

int hex_digit(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

// A decimal number in [lo, hi] spanning exactly [s, end).
bool parse_number(const char* s, const char* end, uint32_t lo, uint32_t hi, uint32_t* out) {
    if (s == end || end - s > 5) return false;
    uint32_t v = 0;
    for (const char* p = s; p < end; ++p) {
        if (*p < '0' || *p > '9') return false;
        v = v * 10 + static_cast<uint32_t>(*p - '0');
    }
    if (v < lo || v > hi) return false;
    *out = v;
    return true;
}

// Dotted-quad IPv4 spanning exactly [s, end).
bool parse_ipv4(const char* s, const char* end, uint8_t out[4]) {
    for (int i = 0; i < 4; ++i) {
        const char* dot = s;
        while (dot < end && *dot != '.') ++dot;
        if ((i < 3) != (dot < end)) return false;
        uint32_t v;
        if (dot - s > 3 || !parse_number(s, dot, 0, 255, &v)) return false;
        out[i] = static_cast<uint8_t>(v);
        s = dot + 1;
    }
    return true;
}

}  // namespace

bool parse_net_mode(const char* text, NetOptions* out, char* err, size_t err_len) {
    if (strcmp(text, "none") == 0) {
        out->mode = NetMode::kNone;
        return true;
    }
    if (strcmp(text, "user") == 0) {
        out->mode = NetMode::kUser;
        return true;
    }
    if (strncmp(text, "tap:", 4) == 0) {
        const char* name = text + 4;
        size_t n = strlen(name);
        if (n == 0 || n > kTapNameMax) {
            return fail(err, err_len,
                        "--net '%s': the TAP device's name must be 1 to %zu characters "
                        "(e.g. --net tap:tap0)", text, kTapNameMax);
        }
        for (size_t i = 0; i < n; ++i) {
            char c = name[i];
            if (c == '/' || c == ':' || c <= ' ' || c == 0x7f) {
                return fail(err, err_len, "--net '%s': '%s' is not a network interface name",
                            text, name);
            }
        }
        out->mode = NetMode::kTap;
        memcpy(out->tap_name, name, n + 1);
        return true;
    }
    return fail(err, err_len, "--net '%s' is not a network mode; use --net user, --net tap:NAME "
                "or --net none", text);
}

bool parse_mac(const char* text, uint8_t mac[6], char* err, size_t err_len) {
    uint8_t m[6];
    const char* p = text;
    for (int i = 0; i < 6; ++i) {
        int hi = hex_digit(p[0]);
        int lo = hi < 0 ? -1 : hex_digit(p[1]);
        if (lo < 0) break;
        m[i] = static_cast<uint8_t>(hi << 4 | lo);
        p += 2;
        if (i < 5) {
            if (*p != ':' && *p != '-') break;
            ++p;
        } else if (*p == '\0') {
            if (m[0] & 1) {
                return fail(err, err_len, "--mac %s is a multicast address; the first byte must "
                            "be even (e.g. 52:54:00:12:34:56)", text);
            }
            if ((m[0] | m[1] | m[2] | m[3] | m[4] | m[5]) == 0) {
                return fail(err, err_len, "--mac %s: the all-zero address is not usable", text);
            }
            memcpy(mac, m, 6);
            return true;
        }
    }
    return fail(err, err_len, "--mac '%s' is not a MAC address; write six hex pairs, e.g. "
                "--mac 52:54:00:12:34:56", text);
}

bool parse_publish(const char* text, PortForward* out, char* err, size_t err_len) {
    PortForward f;
    const char* end = text + strlen(text);
    const char* slash = strchr(text, '/');
    if (slash != nullptr) {
        if (strcmp(slash, "/udp") == 0) {
            f.udp = true;
        } else if (strcmp(slash, "/tcp") != 0) {
            return fail(err, err_len, "-p '%s': the protocol after '/' must be tcp or udp", text);
        }
        end = slash;
    }
    if (text[0] == '[') {
        return fail(err, err_len, "-p '%s': IPv6 host addresses are not supported; publish on "
                    "an IPv4 address such as 127.0.0.1", text);
    }
    // Split at the colons: HOSTPORT:GUESTPORT or IP:HOSTPORT:GUESTPORT.
    const char* colons[3];
    int ncolons = 0;
    for (const char* p = text; p < end; ++p) {
        if (*p == ':') {
            if (ncolons == 3) break;
            colons[ncolons++] = p;
        }
    }
    const char* usage = "write -p HOSTPORT:GUESTPORT or -p IP:HOSTPORT:GUESTPORT, e.g. "
                        "-p 8080:80 or -p 127.0.0.1:8080:80/tcp";
    if (ncolons == 0) {
        return fail(err, err_len, "-p '%s' gives no host port (kiln does not pick one); %s", text,
                    usage);
    }
    if (ncolons > 2) return fail(err, err_len, "-p '%s' has too many ':'; %s", text, usage);
    const char* host_port = text;
    if (ncolons == 2) {
        if (!parse_ipv4(text, colons[0], f.host_addr)) {
            return fail(err, err_len, "-p '%s': '%.*s' is not an IPv4 address", text,
                        static_cast<int>(colons[0] - text), text);
        }
        host_port = colons[0] + 1;
    }
    const char* guest_port = colons[ncolons - 1] + 1;
    uint32_t hp, gp;
    for (const char* p = text; p < end; ++p) {
        if (*p == '-' && p > text && p[-1] != ':' && p[-1] != '.') {
            return fail(err, err_len, "-p '%s': port ranges are not supported; give one -p per "
                        "port", text);
        }
    }
    if (!parse_number(host_port, colons[ncolons - 1], 1, 65535, &hp)) {
        return fail(err, err_len, "-p '%s': the host port '%.*s' is not a number from 1 to 65535",
                    text, static_cast<int>(colons[ncolons - 1] - host_port), host_port);
    }
    if (!parse_number(guest_port, end, 1, 65535, &gp)) {
        return fail(err, err_len, "-p '%s': the guest port '%.*s' is not a number from 1 to "
                    "65535", text, static_cast<int>(end - guest_port), guest_port);
    }
    f.host_port = static_cast<uint16_t>(hp);
    f.guest_port = static_cast<uint16_t>(gp);
    *out = f;
    return true;
}

bool add_publish(const char* text, NetOptions* out, char* err, size_t err_len) {
    if (out->publish_count == kMaxPublish) {
        return fail(err, err_len, "-p given more than %d times", kMaxPublish);
    }
    PortForward f;
    if (!parse_publish(text, &f, err, err_len)) return false;
    for (int i = 0; i < out->publish_count; ++i) {
        const PortForward& o = out->publish[i];
        if (o.udp == f.udp && o.host_port == f.host_port &&
            memcmp(o.host_addr, f.host_addr, 4) == 0) {
            return fail(err, err_len, "-p '%s': host port %u/%s is already published", text,
                        f.host_port, f.udp ? "udp" : "tcp");
        }
    }
    out->publish[out->publish_count++] = f;
    return true;
}

bool check_static_ip(const char* text, char* err, size_t err_len) {
    const char* usage = "write --ip ADDR/PREFIX[,GATEWAY[,DNS]], e.g. --ip 10.0.3.2/24,10.0.3.1";
    const char* slash = strchr(text, '/');
    uint8_t ip[4];
    if (slash == nullptr || !parse_ipv4(text, slash, ip)) {
        return fail(err, err_len, "--ip '%s' does not start with an IPv4 address and /PREFIX; %s",
                    text, usage);
    }
    const char* comma = strchr(slash, ',');
    const char* prefix_end = comma != nullptr ? comma : slash + strlen(slash);
    uint32_t prefix;
    if (!parse_number(slash + 1, prefix_end, 1, 32, &prefix)) {
        return fail(err, err_len, "--ip '%s': the prefix length must be 1 to 32; %s", text, usage);
    }
    for (int i = 0; comma != nullptr; ++i) {
        const char* start = comma + 1;
        comma = strchr(start, ',');
        const char* end = comma != nullptr ? comma : start + strlen(start);
        if (i == 2 || !parse_ipv4(start, end, ip)) {
            return fail(err, err_len, "--ip '%s': '%.*s' is not an IPv4 %s; %s", text,
                        static_cast<int>(end - start), start, i == 0 ? "gateway" : "DNS server",
                        usage);
        }
    }
    return true;
}

bool check_static_ip6(const char* text, char* err, size_t err_len) {
    const char* usage = "write --ip6 ADDR/PREFIX[,GATEWAY], e.g. --ip6 fd00::15/64,fd00::1";
    char addr[INET6_ADDRSTRLEN] = {};
    const char* slash = strchr(text, '/');
    in6_addr a;
    if (slash != nullptr && size_t(slash - text) < sizeof(addr)) memcpy(addr, text, slash - text);
    if (slash == nullptr || inet_pton(AF_INET6, addr, &a) != 1) {
        return fail(err, err_len, "--ip6 '%s' does not start with an IPv6 address and /PREFIX; %s",
                    text, usage);
    }
    const char* comma = strchr(slash, ',');
    uint32_t prefix;
    if (!parse_number(slash + 1, comma != nullptr ? comma : slash + strlen(slash), 1, 128, &prefix)) {
        return fail(err, err_len, "--ip6 '%s': the prefix length must be 1 to 128; %s", text, usage);
    }
    if (comma != nullptr && inet_pton(AF_INET6, comma + 1, &a) != 1) {
        return fail(err, err_len, "--ip6 '%s': '%s' is not an IPv6 gateway; %s", text, comma + 1,
                    usage);
    }
    return true;
}

bool check_net_options(const NetOptions& o, char* err, size_t err_len) {
    if (o.publish_count > 0 && o.mode != NetMode::kUser) {
        return fail(err, err_len, "-p publishes ports through user-mode networking and needs "
                    "--net user%s", o.mode == NetMode::kTap
                        ? " (over a TAP device the guest is reachable at its own address)"
                        : "");
    }
    if (o.mac_given && o.mode == NetMode::kNone) {
        return fail(err, err_len, "--mac needs a network: add --net user or --net tap:NAME");
    }
    return true;
}

}  // namespace kiln::vmm
