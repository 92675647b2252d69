// DHCPv4 client (RFC 2131 §4.4, options RFC 2132): INIT → SELECTING
// (DISCOVER, take the first OFFER) → REQUESTING (REQUEST, ACK binds) →
// BOUND, RENEWING at T1 (unicast REQUEST to the server), REBINDING at T2
// (broadcast), and back to INIT when the lease runs out or a NAK comes.
// Retransmissions back off from 2 s to 64 s (§4.1 suggests 4 s; a quick
// first retry matters when the guest boots before the link is up).
#include "mm/new.h"
#include "net/stack.h"

namespace kiln::net {

namespace {

enum class DhcpState : uint8_t { kSelecting, kRequesting, kBound, kRenewing, kRebinding };

constexpr uint8_t kDiscover = 1, kOffer = 2, kRequest = 3, kAck = 5, kNak = 6;
constexpr uint8_t kCookie[4] = {99, 130, 83, 99};
constexpr size_t kBootpFixed = 236;

}  // namespace

struct Dhcp {
    DhcpState state = DhcpState::kSelecting;
    uint32_t xid = 0;
    uint64_t deadline = 0;  // next retransmission or lease event
    uint64_t backoff = 2 * kSec;
    int tries = 0;
    IpAddr offered;  // yiaddr of the offer / lease
    IpAddr server;   // server identifier
    uint64_t t1 = kNever, t2 = kNever, expiry = kNever;
    uint64_t started = 0;
};

namespace {

void new_xid(StackImpl* s, Dhcp* d) {
    d->xid = static_cast<uint32_t>(s->random64());
}

}  // namespace

// Sends a DISCOVER or REQUEST for ifc per its client state.
static void dhcp_send(StackImpl* s, Interface* ifc) {
    Dhcp* d = ifc->dhcp;
    bool renewing = d->state == DhcpState::kRenewing;
    bool rebinding = d->state == DhcpState::kRebinding;
    Route r;
    if (renewing) {
        auto rr = s->route(d->server, &ifc->v4_addr);
        if (!rr.ok()) return;
        r = *rr;
    } else {
        r.iface = ifc;
        r.mtu = ifc->mtu;
        r.src = (rebinding && ifc->has_v4) ? ifc->v4_addr : IpAddr::any4();
        r.next_hop = IpAddr::v4(255, 255, 255, 255);
    }
    IpAddr dst = renewing ? d->server : IpAddr::v4(255, 255, 255, 255);
    uint8_t* u = s->l4_start(r);
    uint8_t* m = u + 8;
    __builtin_memset(m, 0, kBootpFixed);
    m[0] = 1;  // BOOTREQUEST
    m[1] = 1;
    m[2] = 6;
    store_be32(m + 4, d->xid);
    uint64_t secs = (s->now() - d->started) / kSec;
    store_be16(m + 8, static_cast<uint16_t>(secs > 0xffff ? 0xffff : secs));
    // Broadcast replies until we have an address (§4.1).
    if (!renewing && !rebinding) store_be16(m + 10, 0x8000);
    if (renewing || rebinding) __builtin_memcpy(m + 12, ifc->v4_addr.v4_bytes(), 4);  // ciaddr
    __builtin_memcpy(m + 28, ifc->mac.b, 6);
    uint8_t* o = m + kBootpFixed;
    __builtin_memcpy(o, kCookie, 4);
    o += 4;
    *o++ = 53;
    *o++ = 1;
    *o++ = d->state == DhcpState::kSelecting ? kDiscover : kRequest;
    if (d->state == DhcpState::kRequesting) {
        // §4.3.2 SELECTING: requested address and server identifier.
        *o++ = 50;
        *o++ = 4;
        __builtin_memcpy(o, d->offered.v4_bytes(), 4);
        o += 4;
        *o++ = 54;
        *o++ = 4;
        __builtin_memcpy(o, d->server.v4_bytes(), 4);
        o += 4;
    }
    // Parameter request list: mask, router, DNS, lease, T1, T2.
    static const uint8_t kWanted[] = {1, 3, 6, 51, 58, 59};
    *o++ = 55;
    *o++ = sizeof(kWanted);
    __builtin_memcpy(o, kWanted, sizeof(kWanted));
    o += sizeof(kWanted);
    *o++ = 255;
    size_t len = static_cast<size_t>(o - m);
    while (len < 300) m[len++] = 0;  // BOOTP's minimum message (RFC 1542 §3.2)
    store_be16(u, 68);
    store_be16(u + 2, 67);
    store_be16(u + 4, static_cast<uint16_t>(8 + len));
    (void)s->ip_output(r, dst, kProtoUdp, 8 + len, 6, 64);
}

Result<void> dhcp_start(StackImpl* s, Interface* ifc) {
    if (ifc->dhcp == nullptr) {
        ifc->dhcp = mm::make<Dhcp>();
        if (ifc->dhcp == nullptr) return Error(Errno::kENOMEM);
    }
    Dhcp* d = ifc->dhcp;
    *d = Dhcp();
    new_xid(s, d);
    d->started = s->now();
    d->deadline = s->now() + d->backoff;
    dhcp_send(s, ifc);
    return {};
}

void StackImpl::dhcp_free(Interface* ifc) {
    mm::destroy(ifc->dhcp);
    ifc->dhcp = nullptr;
}

namespace {

struct Offer {
    uint8_t type = 0;
    bool have_server = false, have_mask = false, have_router = false, have_dns = false;
    uint8_t server[4] = {}, mask[4] = {}, router[4] = {}, dns[4] = {};
    uint32_t lease = 0, t1 = 0, t2 = 0;
};

bool parse_options(Bytes opts, Offer* of) {
    size_t i = 0;
    while (i < opts.size()) {
        uint8_t code = opts[i];
        if (code == 255) break;
        if (code == 0) {
            ++i;
            continue;
        }
        if (i + 1 >= opts.size()) return false;
        size_t len = opts[i + 1];
        if (i + 2 + len > opts.size()) return false;
        const uint8_t* v = opts.data() + i + 2;
        switch (code) {
            case 53:
                if (len >= 1) of->type = v[0];
                break;
            case 54:
                if (len >= 4) {
                    __builtin_memcpy(of->server, v, 4);
                    of->have_server = true;
                }
                break;
            case 1:
                if (len >= 4) {
                    __builtin_memcpy(of->mask, v, 4);
                    of->have_mask = true;
                }
                break;
            case 3:
                if (len >= 4) {
                    __builtin_memcpy(of->router, v, 4);
                    of->have_router = true;
                }
                break;
            case 6:
                if (len >= 4) {
                    __builtin_memcpy(of->dns, v, 4);
                    of->have_dns = true;
                }
                break;
            case 51:
                if (len >= 4) of->lease = load_be32(v);
                break;
            case 58:
                if (len >= 4) of->t1 = load_be32(v);
                break;
            case 59:
                if (len >= 4) of->t2 = load_be32(v);
                break;
            default:
                break;
        }
        i += 2 + len;
    }
    return true;
}

uint8_t mask_to_prefix(const uint8_t m[4]) {
    uint32_t v = load_be32(m);
    uint8_t n = 0;
    while (n < 32 && (v & (0x80000000u >> n))) n++;
    return n;
}

}  // namespace

bool StackImpl::dhcp_input(IpPacket& p) {
    Interface* ifc = p.iface;
    Dhcp* d = ifc->dhcp;
    if (d == nullptr) return false;
    Bytes m = p.payload.subspan(8);
    if (m.size() < kBootpFixed + 4) return true;
    if (m[0] != 2 || load_be32(m.data() + 4) != d->xid ||
        __builtin_memcmp(m.data() + 28, ifc->mac.b, 6) != 0 ||
        __builtin_memcmp(m.data() + kBootpFixed, kCookie, 4) != 0)
        return true;  // not an answer to us
    Offer of;
    if (!parse_options(m.subspan(kBootpFixed + 4), &of)) return true;
    IpAddr yiaddr = IpAddr::v4(m.data() + 16);
    if (of.type == kOffer && d->state == DhcpState::kSelecting) {
        if (!of.have_server || yiaddr.is_any() || yiaddr.is_multicast()) return true;
        d->offered = yiaddr;
        d->server = IpAddr::v4(of.server);
        d->state = DhcpState::kRequesting;
        d->tries = 0;
        d->backoff = 2 * kSec;
        d->deadline = now_ + d->backoff;
        dhcp_send(this, ifc);
        return true;
    }
    if (of.type == kNak && d->state != DhcpState::kBound && d->state != DhcpState::kSelecting) {
        // Start over (§3.1 step 4: back to INIT).
        if (d->state != DhcpState::kRequesting) ifc->has_v4 = false;
        Dhcp fresh;
        *d = fresh;
        new_xid(this, d);
        d->started = now_;
        d->deadline = now_ + kSec;
        return true;
    }
    if (of.type != kAck || d->state == DhcpState::kSelecting || d->state == DhcpState::kBound)
        return true;
    if (yiaddr.is_any()) return true;
    // Bound: configure the interface from the lease.
    ifc->v4_addr = yiaddr;
    ifc->has_v4 = true;
    ifc->v4_prefix = of.have_mask ? mask_to_prefix(of.mask) : 24;
    ifc->v4_gateway = of.have_router ? IpAddr::v4(of.router) : IpAddr::any4();
    if (of.have_dns) __builtin_memcpy(ifc->dns, of.dns, 4);
    if (of.have_server) d->server = IpAddr::v4(of.server);
    d->offered = yiaddr;
    d->state = DhcpState::kBound;
    d->tries = 0;
    if (of.lease == 0xffffffffu || of.lease == 0) {
        d->t1 = d->t2 = d->expiry = kNever;  // infinite (or unstated: keep it)
    } else {
        uint64_t lease = uint64_t(of.lease) * kSec;
        d->expiry = now_ + lease;
        d->t1 = now_ + (of.t1 != 0 && of.t1 < of.lease ? uint64_t(of.t1) * kSec : lease / 2);
        d->t2 = now_ + (of.t2 != 0 && of.t2 < of.lease ? uint64_t(of.t2) * kSec : lease / 8 * 7);
    }
    d->deadline = d->t1;
    net_log("kiln: net: DHCP lease %u.%u.%u.%u/%u", yiaddr.b[12], yiaddr.b[13], yiaddr.b[14],
            yiaddr.b[15], ifc->v4_prefix);
    return true;
}

void StackImpl::dhcp_timers() {
    for (Interface* ifc = ifaces_; ifc != nullptr; ifc = ifc->next) {
        Dhcp* d = ifc->dhcp;
        if (d == nullptr || d->deadline > now_) continue;
        switch (d->state) {
            case DhcpState::kSelecting:
            case DhcpState::kRequesting:
                d->tries++;
                if (d->state == DhcpState::kRequesting && d->tries > 4) {
                    d->state = DhcpState::kSelecting;  // the server went quiet
                    new_xid(this, d);
                    d->backoff = 2 * kSec;
                    d->tries = 0;
                } else if (d->backoff < 64 * kSec) {
                    d->backoff *= 2;
                }
                d->deadline = now_ + d->backoff;
                dhcp_send(this, ifc);
                break;
            case DhcpState::kBound:
            case DhcpState::kRenewing:
            case DhcpState::kRebinding: {
                if (now_ >= d->expiry) {
                    // The lease ran out: the address goes (§4.4.5).
                    ifc->has_v4 = false;
                    ifc->v4_addr = IpAddr::any4();
                    ifc->v4_gateway = IpAddr::any4();
                    *d = Dhcp();
                    new_xid(this, d);
                    d->started = now_;
                    d->deadline = now_;
                    dhcp_send(this, ifc);
                    d->deadline = now_ + d->backoff;
                    break;
                }
                if (now_ >= d->t2) {
                    d->state = DhcpState::kRebinding;
                } else if (d->state == DhcpState::kBound) {
                    d->state = DhcpState::kRenewing;
                    new_xid(this, d);
                }
                dhcp_send(this, ifc);
                // §4.4.5: retry at half the remaining time, at least 60 s.
                uint64_t until = d->state == DhcpState::kRenewing ? d->t2 : d->expiry;
                uint64_t wait = (until - now_) / 2;
                if (wait < 60 * kSec) wait = 60 * kSec;
                d->deadline = now_ + wait;
                if (d->deadline > until) d->deadline = until;
                break;
            }
        }
    }
}

uint64_t StackImpl::dhcp_deadline() const {
    uint64_t t = kNever;
    for (Interface* ifc = ifaces_; ifc != nullptr; ifc = ifc->next)
        if (ifc->dhcp != nullptr && ifc->dhcp->deadline < t) t = ifc->dhcp->deadline;
    return t;
}

}  // namespace kiln::net
