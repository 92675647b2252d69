// IPv6 (RFC 8200), ICMPv6 (RFC 4443) echo, neighbour discovery (RFC 4861:
// solicitations and advertisements feeding the shared neighbour cache,
// router solicitation and advertisement) and stateless address
// autoconfiguration (RFC 4862) from an advertised /64 prefix.
//
// Extension headers: hop-by-hop, routing and destination options are
// skipped; fragments are reassembled (shared with IPv4, ip.cpp), and
// datagrams beyond the link MTU are sent in fragments (ip_output).
#include "net/socket.h"
#include "net/stack.h"

namespace kiln::net {

namespace {

constexpr uint64_t kRsInterval = 4 * kSec;  // RFC 4861 §10 RTR_SOLICITATION_INTERVAL
constexpr int kRsMax = 3;

// ff02::1:ffXX:XXXX, the solicited-node group of an address (RFC 4291 §2.7.1).
IpAddr solicited_node(const IpAddr& a) {
    IpAddr m;
    m.b[0] = 0xff;
    m.b[1] = 0x02;
    m.b[11] = 0x01;
    m.b[12] = 0xff;
    m.b[13] = a.b[13];
    m.b[14] = a.b[14];
    m.b[15] = a.b[15];
    return m;
}

IpAddr all_routers() {
    IpAddr m;
    m.b[0] = 0xff;
    m.b[1] = 0x02;
    m.b[15] = 0x02;
    return m;
}

}  // namespace

void StackImpl::ipv6_input(Interface* ifc, Bytes pkt, bool csum_valid, bool link_mcast) {
    if (pkt.size() < 40 || (pkt[0] >> 4) != 6) {
        stats.rx_dropped++;
        return;
    }
    size_t plen = load_be16(pkt.data() + 4);
    if (40 + plen > pkt.size()) {
        stats.rx_dropped++;
        return;
    }
    IpPacket p;
    p.iface = ifc;
    p.v4 = false;
    p.src = IpAddr::v6(pkt.data() + 8);
    p.dst = IpAddr::v6(pkt.data() + 24);
    p.ttl = pkt[7];
    p.csum_valid = csum_valid;
    p.ip = pkt.subspan(0, 40 + plen);
    if (p.src.is_multicast() || p.src.is_v4()) {
        stats.rx_dropped++;
        return;
    }
    bool ours = ifc->is_loopback() || is_local(p.dst);
    if (!ours && p.dst.is_multicast()) {
        // All-nodes, or the solicited-node group of one of our addresses.
        IpAddr all_nodes;
        all_nodes.b[0] = 0xff;
        all_nodes.b[1] = 0x02;
        all_nodes.b[15] = 1;
        ours = p.dst == all_nodes || p.dst == solicited_node(ifc->v6_ll) ||
               (ifc->has_v6_global && p.dst == solicited_node(ifc->v6_global));
    }
    if (!ours) {
        stats.rx_dropped++;
        return;
    }
    p.to_broadcast = link_mcast || p.dst.is_multicast();
    uint8_t next = pkt[6];
    size_t off = 40;
    size_t end = 40 + plen;
    // Walk the extension headers we can skip.
    for (int hops = 0; hops < 8; ++hops) {
        if (next == 0 || next == 43 || next == 60) {
            if (off + 8 > end) return;
            size_t len = (size_t{pkt[off + 1]} + 1) * 8;
            if (off + len > end) return;
            next = pkt[off];
            off += len;
            continue;
        }
        break;
    }
    if (next == 44) {
        // A fragment (RFC 8200 §4.5): reassembled with IPv4's machinery;
        // the reassembled payload starts at the upper-layer header.
        if (off + 8 > end) return;
        uint16_t fo = load_be16(pkt.data() + off + 2);
        uint32_t id = load_be32(pkt.data() + off + 4);
        p.proto = pkt[off];
        p.payload = pkt.subspan(off + 8, end - off - 8);
        uint32_t offset = fo & 0xfff8u;
        bool more = (fo & 1) != 0;
        if (!more && offset == 0) {
            deliver(p);  // an atomic fragment (RFC 6946)
            return;
        }
        fragment_input(p, id, offset, more);
        return;
    }
    if (next == 0 || next == 43 || next == 60) {
        stats.rx_dropped++;  // too many extension headers
        return;
    }
    p.proto = next;
    p.payload = pkt.subspan(off, end - off);
    deliver(p);
}

void StackImpl::send_ns(Interface* ifc, const IpAddr& target, bool unicast) {
    Route r;
    r.iface = ifc;
    r.mtu = ifc->mtu;
    r.src = ifc->v6_ll;
    if (ifc->has_v6_global && same_prefix(target, ifc->v6_global, ifc->v6_prefix))
        r.src = ifc->v6_global;
    IpAddr dst = unicast ? target : solicited_node(target);
    r.next_hop = dst;
    if (unicast) {
        // A unicast probe goes straight to the cached MAC.
        Neighbour* n = neighbour_find(ifc, target);
        if (n == nullptr || !n->resolved) return;
    }
    uint8_t* m = l4_start(r);
    m[0] = 135;
    m[1] = 0;
    store_be16(m + 2, 0);
    store_be32(m + 4, 0);
    __builtin_memcpy(m + 8, target.b, 16);
    m[24] = 1;  // source link-layer address option
    m[25] = 1;
    __builtin_memcpy(m + 26, ifc->mac.b, 6);
    (void)ip_output(r, dst, kProtoIcmp6, 32, 2, 255);
}

void StackImpl::send_rs(Interface* ifc) {
    Route r;
    r.iface = ifc;
    r.mtu = ifc->mtu;
    r.src = ifc->v6_ll;
    r.next_hop = all_routers();
    uint8_t* m = l4_start(r);
    m[0] = 133;
    m[1] = 0;
    store_be16(m + 2, 0);
    store_be32(m + 4, 0);
    m[8] = 1;
    m[9] = 1;
    __builtin_memcpy(m + 10, ifc->mac.b, 6);
    (void)ip_output(r, all_routers(), kProtoIcmp6, 16, 2, 255);
}

void StackImpl::ipv6_timers() {
    for (Interface* i = ifaces_; i != nullptr; i = i->next) {
        if (i->v6_router_expires <= now_) {
            i->has_v6_router = false;
            i->v6_router_expires = kNever;
        }
        if (i->v6_global_expires <= now_) {
            i->has_v6_global = false;
            i->v6_global_expires = kNever;
        }
        if (!i->slaac || i->rs_deadline > now_) continue;
        if (i->has_v6_router || i->rs_sent >= kRsMax) {
            i->rs_deadline = kNever;
            continue;
        }
        send_rs(i);
        i->rs_sent++;
        i->rs_deadline = now_ + kRsInterval;
    }
}

namespace {

// Walks ND options (RFC 4861 §4.6): calls f(type, bytes) for each; false
// when malformed.
template <typename F>
bool each_option(Bytes opts, F f) {
    size_t i = 0;
    while (i + 2 <= opts.size()) {
        size_t len = size_t{opts[i + 1]} * 8;
        if (len == 0 || i + len > opts.size()) return false;
        f(opts[i], opts.subspan(i, len));
        i += len;
    }
    return true;
}

}  // namespace

void StackImpl::icmp6_input(IpPacket& p) {
    Bytes m = p.payload;
    if (m.size() < 8) return;
    if (!l4_csum_ok(p)) {
        stats.bad_csum++;
        return;
    }
    uint8_t type = m[0];
    Interface* ifc = p.iface;
    if (type == 128) {
        // Echo request (RFC 4443 §4.1); multicast echoes get no answer here.
        if (p.dst.is_multicast()) return;
        auto r = route(p.src, &p.dst);
        if (!r.ok() || 40 + m.size() > r->mtu) return;
        uint8_t* out = l4_start(*r);
        __builtin_memcpy(out, m.data(), m.size());
        out[0] = 129;
        (void)ip_output(*r, p.src, kProtoIcmp6, m.size(), 2);
        return;
    }
    if (type == 1 && m.size() >= 8 + 40 + 8) {
        // Destination unreachable (RFC 4443 §3.1) about a packet of ours
        // whose next header is TCP or UDP (no extension headers).
        const uint8_t* q = m.data() + 8;
        if ((q[0] >> 4) != 6) return;
        int err = m[1] == 4 ? static_cast<int>(Errno::kECONNREFUSED)
                            : static_cast<int>(Errno::kEHOSTUNREACH);
        icmp_report_error(this, q[6], IpAddr::v6(q + 8), load_be16(q + 40), IpAddr::v6(q + 24),
                          load_be16(q + 42), err);
        return;
    }
    if (type == 2 && m.size() >= 8 + 40 + 8) {
        // Packet too big (RFC 8201): TCP sends smaller segments.
        const uint8_t* q = m.data() + 8;
        if ((q[0] >> 4) != 6 || q[6] != kProtoTcp) return;
        TcpSocket* t =
            tcp_lookup(IpAddr::v6(q + 8), load_be16(q + 40), IpAddr::v6(q + 24), load_be16(q + 42));
        uint32_t mtu = load_be32(m.data() + 4);
        if (t != nullptr)
            t->path_mtu(mtu > 65535 ? 65535 : static_cast<uint16_t>(mtu), load_be32(q + 44));
        return;
    }
    if (type < 133 || type > 136 || ifc->is_loopback()) return;
    // ND messages must come from the link itself (RFC 4861 §6.1, §7.1).
    if (p.ttl != 255 || m[1] != 0) return;
    if (type == 135 && m.size() >= 24) {
        // Neighbour solicitation.
        IpAddr target = IpAddr::v6(m.data() + 8);
        if (!(target == ifc->v6_ll || (ifc->has_v6_global && target == ifc->v6_global))) return;
        MacAddr sll;
        bool have_sll = false;
        if (!each_option(m.subspan(24), [&](uint8_t t, Bytes o) {
                if (t == 1 && o.size() >= 8) {
                    __builtin_memcpy(sll.b, o.data() + 2, 6);
                    have_sll = true;
                }
            }))
            return;
        if (p.src.is_any()) return;  // duplicate address detection: not answered
        if (have_sll) neighbour_update(ifc, p.src, sll, true);
        Route r;
        r.iface = ifc;
        r.mtu = ifc->mtu;
        r.src = target;
        r.next_hop = p.src;
        uint8_t* out = l4_start(r);
        out[0] = 136;
        out[1] = 0;
        store_be16(out + 2, 0);
        store_be32(out + 4, 0x60000000u);  // solicited + override
        __builtin_memcpy(out + 8, target.b, 16);
        out[24] = 2;  // target link-layer address
        out[25] = 1;
        __builtin_memcpy(out + 26, ifc->mac.b, 6);
        (void)ip_output(r, p.src, kProtoIcmp6, 32, 2, 255);
        return;
    }
    if (type == 136 && m.size() >= 24) {
        // Neighbour advertisement: completes or refreshes an entry.
        IpAddr target = IpAddr::v6(m.data() + 8);
        MacAddr tll;
        bool have = false;
        if (!each_option(m.subspan(24), [&](uint8_t t, Bytes o) {
                if (t == 2 && o.size() >= 8) {
                    __builtin_memcpy(tll.b, o.data() + 2, 6);
                    have = true;
                }
            }))
            return;
        if (have) neighbour_update(ifc, target, tll, false);
        return;
    }
    if (type == 134 && m.size() >= 16) {
        // Router advertisement (RFC 4861 §6.3.4): from a link-local router.
        if (!p.src.is_link_local6()) return;
        uint16_t lifetime = load_be16(m.data() + 6);
        MacAddr sll;
        bool have_sll = false;
        bool ok = each_option(m.subspan(16), [&](uint8_t t, Bytes o) {
            if (t == 1 && o.size() >= 8) {
                __builtin_memcpy(sll.b, o.data() + 2, 6);
                have_sll = true;
            }
            if (t == 3 && o.size() >= 32 && ifc->slaac) {
                // Prefix information (§4.6.2): autonomous flag, a /64.
                uint8_t plen = o[2];
                bool autonomous = (o[3] & 0x40) != 0;
                uint32_t valid = load_be32(o.data() + 4);
                IpAddr prefix = IpAddr::v6(o.data() + 16);
                if (!autonomous || plen != 64 || valid == 0 || prefix.is_link_local6() ||
                    prefix.is_multicast())
                    return;
                // RFC 4862 §5.5.3: prefix + our interface identifier. (A
                // static address stays; SLAAC does not replace it.)
                if (ifc->has_v6_global && ifc->v6_global_expires == kNever &&
                    !same_prefix(ifc->v6_global, prefix, 64))
                    return;
                IpAddr a = prefix;
                __builtin_memcpy(a.b + 8, ifc->v6_ll.b + 8, 8);
                ifc->v6_global = a;
                ifc->v6_prefix = 64;
                ifc->has_v6_global = true;
                ifc->v6_global_expires =
                    valid == 0xffffffffu ? kNever : now_ + uint64_t(valid) * kSec;
            }
        });
        if (!ok) return;
        if (have_sll) neighbour_update(ifc, p.src, sll, true);
        if (lifetime != 0) {
            ifc->v6_router = p.src;
            ifc->has_v6_router = true;
            ifc->v6_router_expires = now_ + uint64_t(lifetime) * kSec;
        } else if (ifc->has_v6_router && ifc->v6_router == p.src) {
            ifc->has_v6_router = false;
            ifc->v6_router_expires = kNever;
        }
        return;
    }
}

}  // namespace kiln::net
