// The network configuration the kernel command line gives (net/service.h
// documents the keys): IPv4 and IPv6 addresses with a prefix, a gateway
// and a DNS server. Pure: built into the kernel and the host unit tests.
#pragma once

#include "kiln/result.h"
#include "kiln/span.h"
#include "net/api.h"

namespace kiln::net {

// Dotted quad "a.b.c.d" (each 0..255, no leading '+', nothing after).
bool parse_ipv4(Span<const char> text, uint8_t out[4]);
// RFC 4291 §2.2 text: eight groups of up to four hex digits, one "::" for
// a run of zeros, optionally a dotted quad in the last 32 bits.
bool parse_ipv6(Span<const char> text, uint8_t out[16]);

// kiln.ip=ADDR/PREFIX[,GATEWAY[,DNS]]: EINVAL for anything else.
Result<Ipv4Config> parse_ipv4_config(Span<const char> text);
// kiln.ip6=ADDR/PREFIX[,GATEWAY]: EINVAL for anything else.
Result<Ipv6Config> parse_ipv6_config(Span<const char> text);

// /etc/resolv.conf naming one IPv4 name server; returns its length
// (cap must hold "nameserver 255.255.255.255\n").
size_t format_resolv_conf(const uint8_t dns[4], char* out, size_t cap);

}  // namespace kiln::net
