// Ethernet (IEEE 802.3 framing, Ethernet II types), ARP (RFC 826) and the
// neighbour cache shared with IPv6 neighbour discovery (RFC 4861 §7.3 in a
// simplified form: an entry is resolved, or probing with frames waiting).
//
// A resolved entry lives kNeighbourTtl; when that runs out it is re-probed
// by unicast up to kProbes times while its MAC stays in use, and dropped if
// nobody answers. An unresolved entry is probed once a second, holds at most
// kMaxPending frames (the oldest is dropped, as Linux's unres_qlen does) and
// is dropped with its frames after kProbes unanswered requests.
#include "mm/heap.h"
#include "net/stack.h"

namespace kiln::net {

namespace {

constexpr uint64_t kNeighbourTtl = 60 * kSec;
constexpr uint64_t kProbeInterval = kSec;
constexpr int kProbes = 3;
constexpr int kMaxPending = 16;

void free_pending(Neighbour& n) {
    while (n.pending != nullptr) {
        PendingFrame* f = n.pending;
        n.pending = f->next;
        mm::heap_free(f);
    }
    n.pending_tail = nullptr;
    n.npending = 0;
}

}  // namespace

Result<void> StackImpl::device_send(Interface* ifc, const uint8_t* frame, size_t len,
                                    int csum_start, int csum_off, uint16_t gso_size) {
    TxFrame tf;
    tf.data = Bytes(frame, len);
    if (csum_start >= 0) {
        tf.needs_csum = true;
        tf.csum_start = static_cast<uint16_t>(csum_start);
        tf.csum_offset = static_cast<uint16_t>(csum_off);
        if (gso_size != 0) {
            // csum_start is where TCP begins; its data offset ends the headers.
            tf.gso_size = gso_size;
            tf.gso_v6 = load_be16(frame + 12) == kEtherIpv6;
            tf.hdr_len = static_cast<uint16_t>(csum_start + (frame[csum_start + 12] >> 4) * 4);
        }
    }
    auto r = ifc->dev->transmit(tf);
    if (!r.ok()) {
        stats.tx_dropped++;
        return r;
    }
    stats.tx_frames++;
    return {};
}

Neighbour* StackImpl::neighbour_find(Interface* ifc, const IpAddr& ip) {
    for (Neighbour& n : neigh)
        if (n.iface == ifc && n.ip == ip) return &n;
    return nullptr;
}

namespace {

Neighbour* neighbour_slot(Neighbour* table, int count) {
    Neighbour* victim = nullptr;
    for (int i = 0; i < count; ++i) {
        if (table[i].iface == nullptr) return &table[i];
        if (victim == nullptr || table[i].expires < victim->expires) victim = &table[i];
    }
    free_pending(*victim);
    return victim;
}

void fill_multicast_mac(const IpAddr& ip, uint8_t* mac) {
    if (ip.is_v4()) {
        // RFC 1112 §6.4: 01:00:5e and the low 23 bits.
        mac[0] = 0x01;
        mac[1] = 0x00;
        mac[2] = 0x5e;
        mac[3] = ip.b[13] & 0x7f;
        mac[4] = ip.b[14];
        mac[5] = ip.b[15];
    } else {
        // RFC 2464 §7: 33:33 and the low 32 bits.
        mac[0] = mac[1] = 0x33;
        __builtin_memcpy(mac + 2, ip.b + 12, 4);
    }
}

}  // namespace

Result<void> StackImpl::link_output(Interface* ifc, const IpAddr& next_hop, uint16_t ethertype,
                                    uint8_t* frame, size_t len, int csum_start, int csum_off,
                                    uint16_t gso_size) {
    __builtin_memcpy(frame + 6, ifc->mac.b, 6);
    store_be16(frame + 12, ethertype);
    bool bcast = next_hop.is_v4_broadcast();
    if (!bcast && next_hop.is_v4() && ifc->has_v4 && ifc->v4_prefix < 31) {
        // The subnet's directed broadcast.
        uint32_t host = ~uint32_t{0} >> ifc->v4_prefix;
        bcast = same_prefix(next_hop, ifc->v4_addr, 96 + ifc->v4_prefix) &&
                (next_hop.v4_u32() & host) == host;
    }
    if (bcast) {
        __builtin_memset(frame, 0xff, 6);
        return device_send(ifc, frame, len, csum_start, csum_off, gso_size);
    }
    if (next_hop.is_multicast()) {
        fill_multicast_mac(next_hop, frame);
        return device_send(ifc, frame, len, csum_start, csum_off, gso_size);
    }
    Neighbour* n = neighbour_find(ifc, next_hop);
    if (n != nullptr && n->resolved) {
        __builtin_memcpy(frame, n->mac.b, 6);
        return device_send(ifc, frame, len, csum_start, csum_off, gso_size);
    }
    bool fresh = n == nullptr;
    if (fresh) {
        n = neighbour_slot(neigh, kNeighbours);
        *n = Neighbour();
        n->iface = ifc;
        n->ip = next_hop;
        n->resolved = false;
        n->expires = now_ + kProbeInterval;
        n->probes = 1;
    }
    // Park a copy of the frame until the MAC is known.
    if (n->npending >= kMaxPending) {
        PendingFrame* old = n->pending;
        n->pending = old->next;
        if (n->pending == nullptr) n->pending_tail = nullptr;
        n->npending--;
        mm::heap_free(old);
        stats.tx_dropped++;
    }
    auto* f = static_cast<PendingFrame*>(mm::heap_alloc(sizeof(PendingFrame) + len));
    if (f != nullptr) {
        f->next = nullptr;
        f->len = len;
        f->csum_start = csum_start;
        f->csum_off = csum_off;
        f->gso_size = gso_size;
        __builtin_memcpy(f->data, frame, len);
        if (n->pending_tail != nullptr)
            n->pending_tail->next = f;
        else
            n->pending = f;
        n->pending_tail = f;
        n->npending++;
    } else {
        stats.tx_dropped++;
    }
    if (fresh) {
        if (next_hop.is_v4())
            send_arp(ifc, 1, MacAddr(), next_hop, nullptr);
        else
            send_ns(ifc, next_hop, false);
    }
    return {};
}

void StackImpl::neighbour_update(Interface* ifc, const IpAddr& ip, const MacAddr& mac,
                                 bool create) {
    Neighbour* n = neighbour_find(ifc, ip);
    if (n == nullptr) {
        if (!create) return;
        n = neighbour_slot(neigh, kNeighbours);
        *n = Neighbour();
        n->iface = ifc;
        n->ip = ip;
    }
    n->mac = mac;
    n->resolved = true;
    n->probes = 0;
    n->expires = now_ + kNeighbourTtl;
    // Send what waited, in order.
    PendingFrame* f = n->pending;
    n->pending = n->pending_tail = nullptr;
    n->npending = 0;
    while (f != nullptr) {
        PendingFrame* next = f->next;
        __builtin_memcpy(f->data, mac.b, 6);
        (void)device_send(ifc, f->data, f->len, f->csum_start, f->csum_off, f->gso_size);
        mm::heap_free(f);
        f = next;
    }
}

void StackImpl::neighbour_timers() {
    for (Neighbour& n : neigh) {
        if (n.iface == nullptr || n.expires > now_) continue;
        if (n.probes >= kProbes) {
            stats.tx_dropped += static_cast<uint64_t>(n.npending);
            free_pending(n);
            n = Neighbour();
            continue;
        }
        n.probes++;
        n.expires = now_ + kProbeInterval;
        if (n.ip.is_v4())
            send_arp(n.iface, 1, MacAddr(), n.ip, n.resolved ? n.mac.b : nullptr);
        else
            send_ns(n.iface, n.ip, n.resolved);
    }
}

void StackImpl::send_arp(Interface* ifc, uint16_t op, const MacAddr& tha, const IpAddr& tpa,
                         const uint8_t* dst_mac) {
    if (!ifc->has_v4 && op == 1) return;  // no address to ask from yet
    uint8_t f[60] = {};                   // the minimum Ethernet frame, padded
    if (dst_mac != nullptr)
        __builtin_memcpy(f, dst_mac, 6);
    else
        __builtin_memset(f, 0xff, 6);
    __builtin_memcpy(f + 6, ifc->mac.b, 6);
    store_be16(f + 12, kEtherArp);
    uint8_t* a = f + kEthHeader;
    store_be16(a, 1);  // Ethernet
    store_be16(a + 2, kEtherIpv4);
    a[4] = 6;
    a[5] = 4;
    store_be16(a + 6, op);
    __builtin_memcpy(a + 8, ifc->mac.b, 6);
    __builtin_memcpy(a + 14, ifc->v4_addr.v4_bytes(), 4);
    __builtin_memcpy(a + 18, tha.b, 6);
    __builtin_memcpy(a + 24, tpa.v4_bytes(), 4);
    (void)device_send(ifc, f, sizeof(f), -1, 0);
}

void StackImpl::arp_input(Interface* ifc, Bytes pkt) {
    if (pkt.size() < 28) {
        stats.rx_dropped++;
        return;
    }
    const uint8_t* a = pkt.data();
    if (load_be16(a) != 1 || load_be16(a + 2) != kEtherIpv4 || a[4] != 6 || a[5] != 4) {
        stats.rx_dropped++;
        return;
    }
    uint16_t op = load_be16(a + 6);
    MacAddr sha;
    __builtin_memcpy(sha.b, a + 8, 6);
    IpAddr spa = IpAddr::v4(a + 14);
    IpAddr tpa = IpAddr::v4(a + 24);
    if (sha.b[0] & 1) return;  // a multicast sender MAC is bogus
    bool for_us = ifc->has_v4 && tpa == ifc->v4_addr;
    // RFC 826's merge: update a known sender; add it when the request is
    // for us (we will likely talk back).
    if (!spa.is_any()) neighbour_update(ifc, spa, sha, for_us);
    if (op == 1 && for_us) send_arp(ifc, 2, sha, spa, sha.b);
}

}  // namespace kiln::net
