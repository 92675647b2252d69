// TCP's receiving side: parsing and demultiplexing a segment, the
// connection table, the listener (SYN queue and accept queue, bounded) and
// the end of a connection. "Segment arrives" for the other states is in
// tcp_segment.cpp.
#include "mm/new.h"
#include "net/socket.h"

namespace kiln::net {

namespace {

uint32_t tuple_hash(const IpAddr& la, uint16_t lp, const IpAddr& ra, uint16_t rp) {
    uint32_t h = load_be32(la.b + 12) * 0x9e3779b1u;
    h ^= load_be32(ra.b + 12) + 0x7f4a7c15u + (h << 6) + (h >> 2);
    h ^= load_be32(ra.b + 8) + (h << 6) + (h >> 2);
    h ^= ((uint32_t{lp} << 16) | rp) * 0x85ebca6bu;
    h ^= h >> 15;
    return h % kTcpHashBuckets;
}

// Parses the header and options; false when malformed.
bool parse_segment(Bytes l4, Segment* seg) {
    if (l4.size() < 20) return false;
    const uint8_t* t = l4.data();
    size_t doff = (t[12] >> 4) * 4u;
    if (doff < 20 || doff > l4.size()) return false;
    seg->seq = load_be32(t + 4);
    seg->ack = load_be32(t + 8);
    seg->flags = t[13] & 0x3f;
    seg->wnd = load_be16(t + 14);
    seg->data = l4.subspan(doff);
    for (size_t i = 20; i < doff;) {
        uint8_t kind = t[i];
        if (kind == 0) break;
        if (kind == 1) {
            ++i;
            continue;
        }
        if (i + 1 >= doff) return false;
        uint8_t len = t[i + 1];
        if (len < 2 || i + len > doff) return false;
        if (kind == 2 && len == 4) seg->mss = load_be16(t + i + 2);
        if (kind == 3 && len == 3) seg->wscale = t[i + 2] > 14 ? 14 : t[i + 2];
        if (kind == 4 && len == 2) seg->sack_ok = true;
        if (kind == 5 && len >= 10 && (len - 2) % 8 == 0) {
            for (size_t b = i + 2; b + 8 <= i + len && seg->nsack < 4; b += 8) {
                seg->sack[seg->nsack][0] = load_be32(t + b);
                seg->sack[seg->nsack][1] = load_be32(t + b + 4);
                seg->nsack++;
            }
        }
        i += len;
    }
    return true;
}

}  // namespace

void StackImpl::tcp_hash_add(TcpSocket* s) {
    if (s->hashed) return;
    uint32_t h = tuple_hash(s->local, s->lport, s->remote, s->rport);
    s->hash_next = tcp_hash[h];
    tcp_hash[h] = s;
    s->hashed = true;
}

void StackImpl::tcp_hash_remove(TcpSocket* s) {
    if (!s->hashed) return;
    uint32_t h = tuple_hash(s->local, s->lport, s->remote, s->rport);
    for (TcpSocket** pp = &tcp_hash[h]; *pp != nullptr; pp = &(*pp)->hash_next) {
        if (*pp == s) {
            *pp = s->hash_next;
            break;
        }
    }
    s->hash_next = nullptr;
    s->hashed = false;
}

TcpSocket* StackImpl::tcp_lookup(const IpAddr& la, uint16_t lp, const IpAddr& ra, uint16_t rp) {
    for (TcpSocket* s = tcp_hash[tuple_hash(la, lp, ra, rp)]; s != nullptr; s = s->hash_next)
        if (s->lport == lp && s->rport == rp && s->local == la && s->remote == ra) return s;
    return nullptr;
}

TcpSocket* StackImpl::tcp_listener(const IpAddr& la, uint16_t lp, bool v4) {
    TcpSocket* wild = nullptr;
    for (InetSocket* s = tcp_list; s != nullptr; s = s->list_next) {
        auto* t = static_cast<TcpSocket*>(s);
        if (t->state != TcpState::kListen || t->lport != lp || !t->accepts_dst(la)) continue;
        if (t->family_ == kAfInet && !v4) continue;
        if (!t->local.is_any()) return t;
        // An AF_INET socket beats a dual-stack one for IPv4.
        if (wild == nullptr || (v4 && t->family_ == kAfInet)) wild = t;
    }
    return wild;
}

void StackImpl::tcp_input(IpPacket& p) {
    if (p.to_broadcast || p.dst.is_multicast()) return;
    Segment seg;
    if (!parse_segment(p.payload, &seg)) {
        stats.rx_dropped++;
        return;
    }
    if (!l4_csum_ok(p)) {
        stats.bad_csum++;
        return;
    }
    uint16_t sport = load_be16(p.payload.data());
    uint16_t dport = load_be16(p.payload.data() + 2);
    TcpSocket* s = tcp_lookup(p.dst, dport, p.src, sport);
    if (s != nullptr && s->state == TcpState::kTimeWait &&
        (seg.flags & (kSyn | kAck | kRst)) == kSyn && seq_gt(seg.seq, s->rcv_nxt)) {
        // A new incarnation of the connection (RFC 9293 §3.6.1 via RFC
        // 6191's sequence check): TIME-WAIT ends and the listener sees it.
        s->terminate(0);
        s = nullptr;
    }
    if (s != nullptr && s->state != TcpState::kClosed) {
        s->segment_arrives(p, seg);
        s->wake();
        return;
    }
    TcpSocket* l = tcp_listener(p.dst, dport, p.v4);
    if (l != nullptr) {
        l->listen_input(p, seg);
        return;
    }
    // CLOSED (RFC 9293 §3.10.7.1): reset anything but a reset.
    if (seg.flags & kRst) return;
    if (seg.flags & kAck)
        tcp_send_reset(p, seg.ack, 0, false);
    else
        tcp_send_reset(p, 0, seg.seq + seg.len(), true);
}

void TcpSocket::listen_input(const IpPacket& p, const Segment& seg) {
    // RFC 9293 §3.10.7.2.
    if (seg.flags & kRst) return;
    if (seg.flags & kAck) {
        stack_->tcp_send_reset(p, seg.ack, 0, false);
        return;
    }
    if (!(seg.flags & kSyn)) return;
    // The accept queue holds `backlog` connections and the SYN queue a few
    // hundred more handshakes; a SYN beyond them is dropped and the peer's
    // retransmission tries again (as Linux does).
    if (nacc >= backlog || nsyn >= backlog + 256) return;
    auto sock = stack_->socket(family_, kSockStream, 0);
    if (!sock.ok()) return;
    auto* c = static_cast<TcpSocket*>(*sock);
    c->local = p.dst;
    c->lport = lport;
    c->remote = p.src;
    c->rport = load_be16(p.payload.data());
    c->bound = true;
    c->reuseaddr = reuseaddr;
    c->nodelay = nodelay;
    c->keepalive = keepalive;
    c->keepidle = keepidle;
    c->keepintvl = keepintvl;
    c->keepcnt = keepcnt;
    c->sndbuf = sndbuf;
    c->rcvbuf = rcvbuf;
    c->ttl = ttl;
    c->tos = tos;
    c->user_mss = user_mss;
    c->linger_on = linger_on;
    c->linger_secs = linger_secs;
    c->listener = this;
    c->setup_buffers();
    c->irs = seg.seq;
    c->rcv_nxt = seg.seq + 1;
    c->rcv_adv = c->rcv_nxt;
    c->iss = stack_->isn(c->local, c->lport, c->remote, c->rport);
    c->snd_una = c->snd_nxt = c->snd_max = c->iss;
    c->recover = c->iss;   // NewReno's marker starts below any data (RFC 6582)
    c->snd_wnd = seg.wnd;  // a SYN's window is never scaled
    c->snd_wl1 = seg.seq;
    c->snd_wl2 = c->iss;
    if (seg.wscale >= 0) {
        c->wscale_ok = true;
        c->snd_wscale = static_cast<uint8_t>(seg.wscale);
    } else {
        c->rcv_wscale = 0;
    }
    c->peer_mss = seg.mss != 0 ? seg.mss : (p.v4 ? 536 : 1220);
    c->sack_ok = seg.sack_ok;
    c->last_rx = stack_->now();
    c->set_state(TcpState::kSynReceived);
    stack_->tcp_hash_add(c);
    c->q_next = syn_q;
    syn_q = c;
    nsyn++;
    c->send_syn();
}

void tcp_unlink_syn(TcpSocket* l, TcpSocket* c) {
    for (TcpSocket** pp = &l->syn_q; *pp != nullptr; pp = &(*pp)->q_next) {
        if (*pp == c) {
            *pp = c->q_next;
            l->nsyn--;
            break;
        }
    }
    c->q_next = nullptr;
}

void TcpSocket::setup_buffers() {
    sndq.set_limit(sndbuf);
    rcvq.set_limit(rcvbuf);
    // The window scale that lets the whole buffer be offered (RFC 7323 §2.3).
    rcv_wscale = 0;
    while (rcv_wscale < 14 && (size_t{65535} << rcv_wscale) < rcvbuf) rcv_wscale++;
}

void TcpSocket::set_state(TcpState s) {
    if (state == TcpState::kTimeWait && s != TcpState::kTimeWait) stack_->time_wait_count--;
    if (s == TcpState::kTimeWait && state != TcpState::kTimeWait) stack_->time_wait_count++;
    state = s;
}

void TcpSocket::terminate(int err) {
    if (err != 0) error_ = err;
    TcpState old = state;
    set_state(TcpState::kClosed);
    t_rtx = t_delack = t_persist = t_keep = t_timewait = t_cork = kNever;
    stack_->tcp_hash_remove(this);
    if (err != 0) {
        sndq.release();
        fin_queued = false;
    }
    if (listener != nullptr && !in_accept_queue) {
        // A handshake that never finished: nobody will accept it.
        tcp_unlink_syn(listener, this);
        listener = nullptr;
        owned_by_stack = true;
    }
    (void)old;
    if (owned_by_stack) stack_->retire(this);
    wake();
}

}  // namespace kiln::net
