// ICMP (RFC 792, RFC 1122 §3.2.2): echo replies, and destination-
// unreachable errors both sent (for closed UDP ports and unknown protocols)
// and received (reported to the socket whose packet bounced).
#include "net/socket.h"
#include "net/stack.h"

namespace kiln::net {

// The socket an ICMP error is about: the quoted header's source is ours.
void icmp_report_error(StackImpl* s, uint8_t proto, const IpAddr& src, uint16_t sport,
                       const IpAddr& dst, uint16_t dport, int err) {
    if (proto == kProtoUdp) {
        for (InetSocket* x = s->udp_list; x != nullptr; x = x->list_next) {
            if (x->connected && x->lport == sport && x->rport == dport && x->remote == dst)
                static_cast<UdpSocket*>(x)->icmp_error(err);
        }
    } else if (proto == kProtoTcp) {
        TcpSocket* t = s->tcp_lookup(src, sport, dst, dport);
        // Only a connection still opening gives up (RFC 1122 §4.2.3.9: the
        // rest are soft errors).
        if (t != nullptr && t->state == TcpState::kSynSent) t->terminate(err);
    }
}

void StackImpl::icmp4_input(IpPacket& p) {
    Bytes m = p.payload;
    if (m.size() < 8) return;
    if (!p.csum_valid && internet_checksum(m.data(), m.size()) != 0) {
        stats.bad_csum++;
        return;
    }
    uint8_t type = m[0];
    if (type == 8) {
        // Echo: answer unless it came to a broadcast (RFC 1122 §3.2.2.6
        // lets hosts ignore those; Linux does by default).
        if (p.to_broadcast) return;
        auto r = route(p.src, &p.dst);
        if (!r.ok() || 20 + m.size() > r->mtu) return;
        uint8_t* out = l4_start(*r);
        __builtin_memcpy(out, m.data(), m.size());
        out[0] = 0;  // echo reply
        out[1] = 0;
        store_be16(out + 2, 0);
        store_be16(out + 2, internet_checksum(out, m.size()));
        (void)ip_output(*r, p.src, kProtoIcmp, m.size(), kNoPseudoCsum);
        return;
    }
    if (type == 3 && m.size() >= 8 + 20 + 8) {
        // The quoted datagram: its header and at least 8 bytes of L4.
        const uint8_t* q = m.data() + 8;
        size_t ihl = (q[0] & 0x0f) * 4u;
        if ((q[0] >> 4) != 4 || ihl < 20 || m.size() < 8 + ihl + 8) return;
        int err = 0;
        switch (m[1]) {
            case 2:  // protocol
            case 3:  // port
                err = static_cast<int>(Errno::kECONNREFUSED);
                break;
            case 4: {
                // Fragmentation needed (RFC 1191): the path is narrower than
                // our MSS assumed; only TCP sends with DF.
                if (q[9] != kProtoTcp) return;
                TcpSocket* t = tcp_lookup(IpAddr::v4(q + 12), load_be16(q + ihl),
                                          IpAddr::v4(q + 16), load_be16(q + ihl + 2));
                if (t != nullptr) t->path_mtu(load_be16(m.data() + 6), load_be32(q + ihl + 4));
                return;
            }
            default:
                err = static_cast<int>(Errno::kEHOSTUNREACH);
                break;
        }
        icmp_report_error(this, q[9], IpAddr::v4(q + 12), load_be16(q + ihl), IpAddr::v4(q + 16),
                          load_be16(q + ihl + 2), err);
    }
}

bool StackImpl::icmp_error_allowed() {
    // A token bucket (RFC 1812 §4.3.2.8, RFC 4443 §2.4(f)): bursts of
    // kIcmpBurst errors, kIcmpPerSec a second on average, so a flood at
    // closed ports is not answered packet for packet.
    constexpr uint64_t kIcmpPerSec = 100;
    constexpr uint64_t kIcmpBurst = 50;
    uint64_t refill = (now_ - icmp_tokens_at_) * kIcmpPerSec / kSec;
    if (refill > 0) {
        icmp_tokens_ = icmp_tokens_ + refill > kIcmpBurst ? kIcmpBurst : icmp_tokens_ + refill;
        icmp_tokens_at_ = now_;
    }
    if (icmp_tokens_ == 0) return false;
    icmp_tokens_--;
    return true;
}

void StackImpl::icmp_error(const IpPacket& p, uint8_t type, uint8_t code) {
    // RFC 1122 §3.2.2: never about broadcasts, multicasts, fragments that
    // were reassembled away (we keep no header), or other ICMP errors.
    if (p.to_broadcast || p.ip.empty() || p.src.is_any() || p.src.is_multicast()) return;
    if (!icmp_error_allowed()) return;
    if (!p.v4) {
        // ICMPv6 equivalents (RFC 4443 §3.1, §3.4).
        uint8_t t6 = 1, c6 = 4;  // port unreachable
        if (type == 3 && code == 2) {
            t6 = 4;  // parameter problem: unrecognized next header
            c6 = 1;
        }
        auto r = route(p.src, &p.dst);
        if (!r.ok()) return;
        size_t quote = p.ip.size();
        if (quote > 1280 - 48) quote = 1280 - 48;
        uint8_t* out = l4_start(*r);
        out[0] = t6;
        out[1] = c6;
        store_be16(out + 2, 0);
        store_be32(out + 4, t6 == 4 ? 6 : 0);  // pointer: the next-header field
        __builtin_memcpy(out + 8, p.ip.data(), quote);
        (void)ip_output(*r, p.src, kProtoIcmp6, 8 + quote, 2, 255);
        return;
    }
    if (p.proto == kProtoIcmp && p.payload.size() >= 1) {
        uint8_t t = p.payload[0];
        if (t != 0 && t != 8 && t != 13 && t != 14) return;  // an error already
    }
    auto r = route(p.src, &p.dst);
    if (!r.ok()) return;
    // The header and as much as keeps the error within 576 bytes.
    size_t quote = p.ip.size();
    if (quote > 576 - 28) quote = 576 - 28;
    uint8_t* out = l4_start(*r);
    out[0] = type;
    out[1] = code;
    store_be16(out + 2, 0);
    store_be32(out + 4, 0);
    __builtin_memcpy(out + 8, p.ip.data(), quote);
    store_be16(out + 2, internet_checksum(out, 8 + quote));
    (void)ip_output(*r, p.src, kProtoIcmp, 8 + quote, kNoPseudoCsum);
}

}  // namespace kiln::net
