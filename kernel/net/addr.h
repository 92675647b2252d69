// Addresses inside the stack. Every IP address is kept as 16 bytes: an IPv4
// address as its IPv4-mapped IPv6 form (::ffff:a.b.c.d, RFC 4291 §2.5.5.2),
// so sockets, routes and the neighbour cache are shared by both families
// and a dual-stack socket sees IPv4 peers exactly as Linux shows them.
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "net/api.h"

namespace kiln::net {

struct IpAddr {
    uint8_t b[16] = {};

    static IpAddr v4(const uint8_t a[4]) {
        IpAddr r;
        r.b[10] = r.b[11] = 0xff;
        __builtin_memcpy(r.b + 12, a, 4);
        return r;
    }
    static IpAddr v4(uint8_t a, uint8_t b1, uint8_t c, uint8_t d) {
        const uint8_t x[4] = {a, b1, c, d};
        return v4(x);
    }
    static IpAddr any4() { return v4(0, 0, 0, 0); }
    static IpAddr v6(const uint8_t a[16]) {
        IpAddr r;
        __builtin_memcpy(r.b, a, 16);
        return r;
    }

    bool is_v4() const {
        for (int i = 0; i < 10; ++i)
            if (b[i] != 0) return false;
        return b[10] == 0xff && b[11] == 0xff;
    }
    const uint8_t* v4_bytes() const { return b + 12; }
    uint32_t v4_u32() const {
        return (uint32_t{b[12]} << 24) | (uint32_t{b[13]} << 16) | (uint32_t{b[14]} << 8) | b[15];
    }
    // 0.0.0.0 (as mapped) or ::.
    bool is_any() const {
        if (is_v4()) return v4_u32() == 0;
        for (uint8_t x : b)
            if (x != 0) return false;
        return true;
    }
    bool is_any6() const { return !is_v4() && is_any(); }
    bool is_loopback() const {
        if (is_v4()) return b[12] == 127;
        for (int i = 0; i < 15; ++i)
            if (b[i] != 0) return false;
        return b[15] == 1;
    }
    bool is_multicast() const { return is_v4() ? (b[12] & 0xf0) == 0xe0 : b[0] == 0xff; }
    bool is_v4_broadcast() const { return is_v4() && v4_u32() == 0xffffffffu; }
    bool is_link_local6() const { return !is_v4() && b[0] == 0xfe && (b[1] & 0xc0) == 0x80; }

    bool operator==(const IpAddr& o) const { return __builtin_memcmp(b, o.b, 16) == 0; }
    bool operator!=(const IpAddr& o) const { return !(*this == o); }
};

// True when a and b share their first `bits` bits (of the 128; callers add
// 96 for IPv4 prefixes).
bool same_prefix(const IpAddr& a, const IpAddr& b, unsigned bits);

// An API SockAddr as an IpAddr (family checked by the caller).
IpAddr from_sockaddr(const SockAddr& sa);
// An IpAddr and port as a SockAddr of `family`: an IPv4 address shows as
// mapped in an AF_INET6 socket's names.
SockAddr to_sockaddr(int family, const IpAddr& a, uint16_t port);

}  // namespace kiln::net
