// IPv4 (RFC 791, RFC 1122 §3.2): input validation, local delivery,
// fragment reassembly, routing (on-link vs gateway, loopback), output; and
// the pieces of the transmit path IPv6 shares (checksums, the L4 offset).
//
// Reassembly, shared with IPv6 (RFC 8200 §4.5), is bounded (RFC 791 §3.2
// leaves the limits to the host):
// kMaxFragments datagrams at once, each at most 65535 bytes, given up after
// 30 s, and a datagram whose pieces need more than kFragRanges separate runs
// is dropped. Sent datagrams are never fragmented: TCP picks an MSS that
// fits, and a UDP datagram larger than the path MTU is refused (EMSGSIZE).
#include "mm/heap.h"
#include "net/stack.h"

namespace kiln::net {

namespace {

constexpr uint64_t kFragTimeout = 30 * kSec;
constexpr int kFragRanges = 32;

}  // namespace

struct Fragments {
    IpAddr src, dst;
    uint32_t id;
    bool v4;
    uint8_t proto;
    uint8_t ttl;
    Interface* iface;
    uint64_t expires;
    int32_t total;  // payload length once the last fragment came; -1 before
    int nranges;
    struct {
        uint32_t start, end;
    } ranges[kFragRanges];
    uint8_t data[65536];
};

uint64_t StackImpl::pseudo_sum(const IpAddr& src, const IpAddr& dst, uint8_t proto, size_t len) {
    if (src.is_v4()) {
        uint8_t ph[12];
        __builtin_memcpy(ph, src.v4_bytes(), 4);
        __builtin_memcpy(ph + 4, dst.v4_bytes(), 4);
        ph[8] = 0;
        ph[9] = proto;
        store_be16(ph + 10, static_cast<uint16_t>(len));
        return csum_partial(ph, 12, 0);
    }
    uint8_t ph[40] = {};
    __builtin_memcpy(ph, src.b, 16);
    __builtin_memcpy(ph + 16, dst.b, 16);
    store_be32(ph + 32, static_cast<uint32_t>(len));
    ph[39] = proto;
    return csum_partial(ph, 40, 0);
}

bool StackImpl::l4_csum_ok(const IpPacket& p) const {
    if (p.csum_valid) return true;
    uint64_t s = pseudo_sum(p.src, p.dst, p.proto, p.payload.size());
    s = csum_partial(p.payload.data(), p.payload.size(), s);
    bool ok = csum_fold(s) == 0xffff;
    return ok;
}

bool StackImpl::is_local(const IpAddr& a, Interface** out) const {
    if (a.is_loopback()) {
        if (out) *out = const_cast<Interface*>(&loopback_);
        return true;
    }
    for (Interface* i = ifaces_; i != nullptr; i = i->next) {
        if ((i->has_v4 && a == i->v4_addr) || a == i->v6_ll ||
            (i->has_v6_global && a == i->v6_global)) {
            if (out) *out = i;
            return true;
        }
    }
    return false;
}

Result<Route> StackImpl::route(const IpAddr& dst, const IpAddr* src_hint) const {
    Route r;
    bool hint = src_hint != nullptr && !src_hint->is_any();
    if (is_local(dst)) {
        // Our own addresses, wherever they are configured, loop back.
        r.iface = const_cast<Interface*>(&loopback_);
        r.mtu = kLoopbackMtu;
        r.next_hop = dst;
        if (hint)
            r.src = *src_hint;
        else if (dst.is_v4())
            r.src = dst.b[12] == 127 ? IpAddr::v4(127, 0, 0, 1) : dst;
        else
            r.src = dst;
        return r;
    }
    if (dst.is_v4()) {
        if (dst.is_any()) return Error(Errno::kENETUNREACH);
        Interface* gw_if = nullptr;
        for (Interface* i = ifaces_; i != nullptr; i = i->next) {
            if (dst.is_v4_broadcast() || dst.is_multicast() ||
                (i->has_v4 && same_prefix(dst, i->v4_addr, 96 + i->v4_prefix))) {
                r.iface = i;
                r.next_hop = dst;
                break;
            }
            if (gw_if == nullptr && i->has_v4 && !i->v4_gateway.is_any()) gw_if = i;
        }
        if (r.iface == nullptr) {
            if (gw_if == nullptr) return Error(Errno::kENETUNREACH);
            r.iface = gw_if;
            r.next_hop = gw_if->v4_gateway;
        }
        r.src = hint ? *src_hint : (r.iface->has_v4 ? r.iface->v4_addr : IpAddr::any4());
        r.mtu = r.iface->mtu;
        return r;
    }
    Interface* first = ifaces_;
    if (first == nullptr) return Error(Errno::kENETUNREACH);
    if (dst.is_link_local6() || dst.is_multicast()) {
        r.iface = first;
        r.next_hop = dst;
        r.src = first->v6_ll;
    } else {
        for (Interface* i = ifaces_; i != nullptr; i = i->next) {
            if (i->has_v6_global && same_prefix(dst, i->v6_global, i->v6_prefix)) {
                r.iface = i;
                r.next_hop = dst;
                r.src = i->v6_global;
                break;
            }
        }
        if (r.iface == nullptr) {
            for (Interface* i = ifaces_; i != nullptr; i = i->next) {
                if (i->has_v6_router) {
                    r.iface = i;
                    r.next_hop = i->v6_router;
                    r.src = i->has_v6_global ? i->v6_global : i->v6_ll;
                    break;
                }
            }
        }
        if (r.iface == nullptr) return Error(Errno::kENETUNREACH);
    }
    if (hint) r.src = *src_hint;
    r.mtu = r.iface->mtu;
    return r;
}

uint8_t* StackImpl::l4_start(const Route& r) {
    return txbuf_ + (r.iface->is_loopback() ? 0 : kEthHeader) + (r.src.is_v4() ? 20 : 40);
}

Result<void> StackImpl::ip_output(const Route& r, const IpAddr& dst, uint8_t proto, size_t l4_len,
                                  int csum_off, uint8_t ttl, uint8_t tclass, uint16_t gso_size) {
    bool v4 = r.src.is_v4();
    size_t hlen = v4 ? 20 : 40;
    bool lo = r.iface->is_loopback();
    // Datagrams (not TCP, whose MSS fits) larger than the link are
    // fragmented: IPv4 per RFC 791 §3.2, IPv6 with a fragment header (RFC
    // 8200 §4.5; the source host may, routers may not).
    bool fragment = !lo && proto != kProtoTcp && hlen + l4_len > r.mtu;
    if (v4 ? hlen + l4_len > 65535 : l4_len > (fragment ? 65535u - 8 : 65535u))
        return Error(Errno::kEMSGSIZE);
    bool gso = gso_size != 0 && !lo && r.iface->csum_offload && r.iface->tso_max != 0 &&
               hlen + l4_len <= r.iface->tso_max && proto == kProtoTcp;
    if (gso_size != 0 && !gso && !lo) return Error(Errno::kEMSGSIZE);
    if (!fragment && !gso && hlen + l4_len > r.mtu) return Error(Errno::kEMSGSIZE);
    uint8_t* ip = txbuf_ + (lo ? 0 : kEthHeader);
    uint8_t* l4 = ip + hlen;
    int csum_start = -1;
    if (csum_off >= 0) {
        uint8_t* field = l4 + csum_off;
        if (lo) {
            // Loopback delivery trusts the checksum (Linux does the same).
            store_be16(field, 0);
        } else {
            uint64_t ps = pseudo_sum(r.src, dst, proto, l4_len);
            if (r.iface->csum_offload && !fragment) {
                // The device completes it from csum_start (virtio-net §5.1.6.2).
                store_be16(field, csum_fold(ps));
                csum_start = static_cast<int>(kEthHeader + hlen);
            } else {
                store_be16(field, 0);
                uint16_t c = csum_finish(csum_partial(l4, l4_len, ps));
                if (c == 0 && proto == kProtoUdp) c = 0xffff;  // RFC 768: 0 means none
                store_be16(field, c);
            }
        }
    }
    if (v4) {
        ip[0] = 0x45;
        ip[1] = tclass;
        store_be16(ip + 2, static_cast<uint16_t>(hlen + l4_len));
        store_be16(ip + 4, ip_id++);
        // DF on TCP: its MSS fits the path; datagrams may be fragmented by
        // routers on the way.
        store_be16(ip + 6, proto == kProtoTcp ? 0x4000 : 0);
        ip[8] = ttl;
        ip[9] = proto;
        store_be16(ip + 10, 0);
        __builtin_memcpy(ip + 12, r.src.v4_bytes(), 4);
        __builtin_memcpy(ip + 16, dst.v4_bytes(), 4);
        store_be16(ip + 10, internet_checksum(ip, 20));
    } else {
        store_be32(ip, 0x60000000u | (uint32_t{tclass} << 20));
        store_be16(ip + 4, static_cast<uint16_t>(l4_len));
        ip[6] = proto;
        ip[7] = ttl;
        __builtin_memcpy(ip + 8, r.src.b, 16);
        __builtin_memcpy(ip + 24, dst.b, 16);
    }
    if (lo) {
        loopback_enqueue(ip, hlen + l4_len);
        return {};
    }
    if (fragment && !v4) {
        // The fragment header goes between the IPv6 header and the
        // payload: the payload moves up 8 bytes, then each piece gets its
        // headers (Ethernet, IPv6, fragment) written just before it, over
        // bytes of the previous piece already handed on.
        __builtin_memmove(l4 + 8, l4, l4_len);
        uint8_t hdr[40];
        __builtin_memcpy(hdr, ip, 40);
        uint32_t id = static_cast<uint32_t>(random64());
        size_t chunk = (r.mtu - 48) & ~size_t{7};
        for (size_t off = 0; off < l4_len; off += chunk) {
            size_t n = l4_len - off < chunk ? l4_len - off : chunk;
            uint8_t* piece = l4 + 8 + off;
            uint8_t* fh = piece - 8;
            uint8_t* fip = fh - 40;
            __builtin_memcpy(fip, hdr, 40);
            store_be16(fip + 4, static_cast<uint16_t>(8 + n));
            fip[6] = 44;
            fh[0] = proto;
            fh[1] = 0;
            store_be16(fh + 2, static_cast<uint16_t>(off | (off + n < l4_len ? 1 : 0)));
            store_be32(fh + 4, id);
            TRY(link_output(r.iface, r.next_hop, kEtherIpv6, fip - kEthHeader, kEthHeader + 48 + n,
                            -1, 0));
        }
        return {};
    }
    if (fragment) {
        // Each fragment's headers go just before its piece of the payload,
        // over bytes of the previous piece that were already handed on
        // (the device or the neighbour queue copied them).
        uint8_t hdr[20];
        __builtin_memcpy(hdr, ip, 20);
        size_t chunk = (r.mtu - 20) & ~size_t{7};
        for (size_t off = 0; off < l4_len; off += chunk) {
            size_t n = l4_len - off < chunk ? l4_len - off : chunk;
            uint8_t* fip = l4 + off - 20;
            __builtin_memcpy(fip, hdr, 20);
            store_be16(fip + 2, static_cast<uint16_t>(20 + n));
            uint16_t flags = static_cast<uint16_t>((off / 8) | (off + n < l4_len ? 0x2000 : 0));
            store_be16(fip + 6, flags);
            store_be16(fip + 10, 0);
            store_be16(fip + 10, internet_checksum(fip, 20));
            TRY(link_output(r.iface, r.next_hop, kEtherIpv4, fip - kEthHeader, kEthHeader + 20 + n,
                            -1, 0));
        }
        return {};
    }
    return link_output(r.iface, r.next_hop, v4 ? kEtherIpv4 : kEtherIpv6, txbuf_,
                       kEthHeader + hlen + l4_len, csum_start, csum_off, gso ? gso_size : 0);
}

namespace {

bool add_range(Fragments* f, uint32_t start, uint32_t end) {
    // Insert [start, end) and merge with neighbours; the list stays sorted.
    int i = 0;
    while (i < f->nranges && f->ranges[i].end < start) ++i;
    if (i < f->nranges && f->ranges[i].start <= end) {
        if (start < f->ranges[i].start) f->ranges[i].start = start;
        if (end > f->ranges[i].end) f->ranges[i].end = end;
        while (i + 1 < f->nranges && f->ranges[i + 1].start <= f->ranges[i].end) {
            if (f->ranges[i + 1].end > f->ranges[i].end) f->ranges[i].end = f->ranges[i + 1].end;
            for (int j = i + 1; j + 1 < f->nranges; ++j) f->ranges[j] = f->ranges[j + 1];
            f->nranges--;
        }
        return true;
    }
    if (f->nranges == kFragRanges) return false;
    for (int j = f->nranges; j > i; --j) f->ranges[j] = f->ranges[j - 1];
    f->ranges[i].start = start;
    f->ranges[i].end = end;
    f->nranges++;
    return true;
}

}  // namespace

void StackImpl::fragments_expire() {
    for (Fragments*& f : frags) {
        if (f != nullptr && f->expires <= now_) {
            mm::heap_free(f);
            f = nullptr;
        }
    }
}

uint64_t StackImpl::fragments_deadline() const {
    uint64_t d = kNever;
    for (Fragments* f : frags)
        if (f != nullptr && f->expires < d) d = f->expires;
    return d;
}

void StackImpl::ipv4_input(Interface* ifc, Bytes pkt, bool csum_valid, bool link_bcast) {
    if (pkt.size() < 20) {
        stats.rx_dropped++;
        return;
    }
    const uint8_t* h = pkt.data();
    size_t ihl = (h[0] & 0x0f) * 4u;
    size_t total = load_be16(h + 2);
    if ((h[0] >> 4) != 4 || ihl < 20 || total < ihl || total > pkt.size()) {
        stats.rx_dropped++;
        return;
    }
    if (!ifc->is_loopback() && csum_fold(csum_partial(h, ihl, 0)) != 0xffff) {
        stats.bad_csum++;
        return;
    }
    IpPacket p;
    p.iface = ifc;
    p.v4 = true;
    p.src = IpAddr::v4(h + 12);
    p.dst = IpAddr::v4(h + 16);
    p.proto = h[9];
    p.ttl = h[8];
    p.csum_valid = csum_valid;
    p.ip = pkt.subspan(0, total);
    p.payload = pkt.subspan(ihl, total - ihl);
    if (p.src.is_multicast() || p.src.is_v4_broadcast()) {
        stats.rx_dropped++;
        return;
    }
    // Ours: an address of this stack, a broadcast, or anything while DHCP
    // is still finding our address (offers may come unicast to it).
    bool ours = ifc->is_loopback() || is_local(p.dst) || p.dst.is_v4_broadcast();
    if (!ours && ifc->has_v4 && ifc->v4_prefix < 31 &&
        same_prefix(p.dst, ifc->v4_addr, 96 + ifc->v4_prefix)) {
        uint32_t host = ~uint32_t{0} >> ifc->v4_prefix;
        ours = (p.dst.v4_u32() & host) == host;
        link_bcast = link_bcast || ours;
    }
    if (!ours && p.dst.is_multicast()) ours = p.dst.v4_u32() == 0xe0000001u;  // all-hosts
    if (!ours && ifc->dhcp != nullptr && !ifc->has_v4 && p.proto == kProtoUdp) ours = true;
    if (!ours) {
        stats.rx_dropped++;  // no forwarding
        return;
    }
    p.to_broadcast = link_bcast || p.dst.is_v4_broadcast() || p.dst.is_multicast();

    uint16_t frag = load_be16(h + 6);
    bool more = (frag & 0x2000) != 0;
    uint32_t offset = (frag & 0x1fffu) * 8u;
    if (!more && offset == 0) {
        deliver(p);
        return;
    }
    fragment_input(p, load_be16(h + 4), offset, more);
}

void StackImpl::fragment_input(IpPacket& p, uint32_t id, uint32_t offset, bool more) {
    size_t len = p.payload.size();
    if ((more && (len % 8) != 0) || len == 0 || offset + len > 65535 - (p.v4 ? 20 : 0)) {
        stats.rx_dropped++;
        return;
    }
    Fragments* f = nullptr;
    Fragments** slot = nullptr;
    for (Fragments*& x : frags) {
        if (x != nullptr && x->id == id && x->v4 == p.v4 && x->proto == p.proto &&
            x->src == p.src && x->dst == p.dst) {
            f = x;
            slot = &x;
            break;
        }
        if (x == nullptr && slot == nullptr) slot = &x;
    }
    if (f == nullptr) {
        if (slot == nullptr) {
            stats.rx_dropped++;  // too many datagrams in pieces already
            return;
        }
        f = static_cast<Fragments*>(mm::heap_alloc(sizeof(Fragments), 64));
        if (f == nullptr) {
            stats.rx_dropped++;
            return;
        }
        f->src = p.src;
        f->dst = p.dst;
        f->id = id;
        f->v4 = p.v4;
        f->proto = p.proto;
        f->iface = p.iface;
        f->expires = now_ + kFragTimeout;
        f->total = -1;
        f->nranges = 0;
        *slot = f;
    }
    if (offset == 0) f->ttl = p.ttl;
    if (!more) {
        if (f->total >= 0 && static_cast<uint32_t>(f->total) != offset + len) {
            mm::heap_free(f);
            *slot = nullptr;
            return;
        }
        f->total = static_cast<int32_t>(offset + len);
    }
    if ((f->total >= 0 && offset + len > static_cast<uint32_t>(f->total)) ||
        !add_range(f, offset, static_cast<uint32_t>(offset + len))) {
        mm::heap_free(f);
        *slot = nullptr;
        stats.rx_dropped++;
        return;
    }
    __builtin_memcpy(f->data + offset, p.payload.data(), len);
    if (f->total < 0 || f->nranges != 1 || f->ranges[0].start != 0 ||
        f->ranges[0].end != static_cast<uint32_t>(f->total))
        return;
    // Complete: deliver from the reassembly buffer, then free it. The
    // device's checksum verdict covered one fragment only.
    *slot = nullptr;
    p.payload = Bytes(f->data, static_cast<size_t>(f->total));
    p.ip = Bytes();
    p.csum_valid = false;
    deliver(p);
    mm::heap_free(f);
}

void StackImpl::deliver(IpPacket& p) {
    switch (p.proto) {
        case kProtoTcp:
            tcp_input(p);
            return;
        case kProtoUdp:
            udp_input(p);
            return;
        case kProtoIcmp:
            if (p.v4) icmp4_input(p);
            return;
        case kProtoIcmp6:
            if (!p.v4) icmp6_input(p);
            return;
        default:
            // RFC 1122 §3.2.2.1: protocol unreachable.
            icmp_error(p, 3, 2);
            return;
    }
}

}  // namespace kiln::net
