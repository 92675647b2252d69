// TCP's receiving side: parsing and demultiplexing a segment, the listener
// (SYN queue and accept queue, both bounded by the backlog), and "segment
// arrives" of RFC 9293 §3.10.7 for every other state, with RFC 5961's
// challenge ACKs against blind resets and SYNs, RFC 5681/6582 ACK
// processing and out-of-order reassembly in the receive ring.
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
    c->last_rx = stack_->now();
    c->set_state(TcpState::kSynReceived);
    stack_->tcp_hash_add(c);
    c->q_next = syn_q;
    syn_q = c;
    nsyn++;
    c->send_syn();
}

namespace {

void unlink_syn(TcpSocket* l, TcpSocket* c) {
    for (TcpSocket** pp = &l->syn_q; *pp != nullptr; pp = &(*pp)->q_next) {
        if (*pp == c) {
            *pp = c->q_next;
            l->nsyn--;
            break;
        }
    }
    c->q_next = nullptr;
}

}  // namespace

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
    t_rtx = t_delack = t_persist = t_keep = t_timewait = kNever;
    stack_->tcp_hash_remove(this);
    if (err != 0) {
        sndq.release();
        fin_queued = false;
    }
    if (listener != nullptr && !in_accept_queue) {
        // A handshake that never finished: nobody will accept it.
        unlink_syn(listener, this);
        listener = nullptr;
        owned_by_stack = true;
    }
    (void)old;
    if (owned_by_stack) stack_->retire(this);
    wake();
}

namespace {

// Establishes the connection's send parameters from the peer's SYN-ACK or
// the ACK of our SYN-ACK.
void establish(TcpSocket* s) {
    if (!s->wscale_ok) {
        s->snd_wscale = 0;
        s->rcv_wscale = 0;
    }
    auto r = s->stack_->route(s->remote, &s->local);
    uint16_t mtu = r.ok() ? r->mtu : 1280;
    uint32_t m = mtu - (s->remote.is_v4() ? 40u : 60u);
    if (s->peer_mss < m) m = s->peer_mss;
    if (s->user_mss > 0 && static_cast<uint32_t>(s->user_mss) < m) m = s->user_mss;
    if (m < 64) m = 64;
    s->mss = static_cast<uint16_t>(m);
    // With segmentation offload a segment may be many MSS long; the device
    // cuts it (whole segments, so each piece is a full one but the last).
    s->tso_seg = 0;
    if (r.ok() && r->iface->tso_max != 0 && r->iface->csum_offload) {
        uint32_t room = r->iface->tso_max - (s->remote.is_v4() ? 40u : 60u);
        if (room >= 2 * m) s->tso_seg = room / m * m;
    }
    // RFC 6928's initial window, ten segments.
    s->cwnd = 10 * m;
    s->ssthresh = 0xffffffffu;
    s->connected = true;
    s->snd_sml = s->snd_una;
    s->rtx_count = 0;
    s->t_rtx = kNever;
    s->set_state(TcpState::kEstablished);
    if (s->keepalive) s->arm(s->t_keep, s->stack_->now() + uint64_t(s->keepidle) * kSec);
}

}  // namespace

void TcpSocket::segment_arrives(const IpPacket& p, const Segment& seg) {
    uint64_t now = stack_->now();
    if (state == TcpState::kSynSent) {
        // RFC 9293 §3.10.7.3.
        bool ack_ok = false;
        if (seg.flags & kAck) {
            if (seq_le(seg.ack, iss) || seq_gt(seg.ack, snd_max)) {
                if (!(seg.flags & kRst)) stack_->tcp_send_reset(p, seg.ack, 0, false);
                return;
            }
            ack_ok = true;
        }
        if (seg.flags & kRst) {
            if (ack_ok) terminate(static_cast<int>(Errno::kECONNREFUSED));
            return;
        }
        if (!(seg.flags & kSyn)) return;
        irs = seg.seq;
        rcv_nxt = seg.seq + 1;
        rcv_adv = rcv_nxt;
        if (seg.wscale >= 0) {
            wscale_ok = true;
            snd_wscale = static_cast<uint8_t>(seg.wscale);
        }
        peer_mss = seg.mss != 0 ? seg.mss : (p.v4 ? 536 : 1220);
        last_rx = now;
        if (ack_ok) {
            snd_una = seg.ack;
            if (seq_lt(snd_nxt, snd_una)) snd_nxt = snd_una;
            snd_wnd = seg.wnd;  // unscaled in a SYN
            if (snd_wnd > max_sndwnd) max_sndwnd = snd_wnd;
            snd_wl1 = seg.seq;
            snd_wl2 = seg.ack;
            if (rtx_count == 0) update_rtt(now - rtt_start);
            rtt_timing = false;
            establish(this);
            send_ack();
            output();  // data queued while connecting
            return;
        }
        // Simultaneous open (RFC 9293 §3.5, figure 8).
        set_state(TcpState::kSynReceived);
        snd_wnd = seg.wnd;
        snd_wl1 = seg.seq;
        send_syn();
        return;
    }

    if (state == TcpState::kSynReceived && (seg.flags & (kSyn | kAck | kRst)) == (kSyn | kAck) &&
        seg.seq == irs) {
        // Simultaneous open (RFC 9293 figure 8, line 5): the peer's SYN-ACK
        // acknowledges our SYN; its SYN we have already. Take it as the ACK.
        Segment rest = seg;
        rest.flags = static_cast<uint8_t>(seg.flags & ~kSyn);
        rest.seq = irs + 1;
        segment_arrives(p, rest);
        return;
    }
    uint32_t seglen = seg.len();
    uint32_t wnd = rcv_window();
    // 1. Sequence number acceptability (RFC 9293 §3.10.7.4, table 6).
    bool acceptable;
    if (seglen == 0) {
        acceptable = wnd == 0 ? seg.seq == rcv_nxt
                              : seq_le(rcv_nxt, seg.seq) && seq_lt(seg.seq, rcv_nxt + wnd);
    } else if (wnd == 0) {
        acceptable = false;
    } else {
        uint32_t last = seg.seq + seglen - 1;
        acceptable = (seq_le(rcv_nxt, seg.seq) && seq_lt(seg.seq, rcv_nxt + wnd)) ||
                     (seq_le(rcv_nxt, last) && seq_lt(last, rcv_nxt + wnd));
    }
    if (!acceptable) {
        if (!(seg.flags & kRst)) send_ack();
        return;
    }
    last_rx = now;
    keep_probes = 0;
    // 2. RST (RFC 5961 §3.2: only an exact match resets; one merely in the
    // window draws a challenge ACK).
    if (seg.flags & kRst) {
        if (seg.seq != rcv_nxt) {
            send_ack();
            return;
        }
        switch (state) {
            case TcpState::kSynReceived:
                terminate(listener != nullptr ? 0 : static_cast<int>(Errno::kECONNREFUSED));
                return;
            case TcpState::kClosing:
            case TcpState::kLastAck:
            case TcpState::kTimeWait:
                terminate(0);
                return;
            default:
                terminate(static_cast<int>(Errno::kECONNRESET));
                return;
        }
    }
    // 4. SYN in a synchronized state: challenge ACK (RFC 5961 §4.2).
    if (seg.flags & kSyn) {
        if (state == TcpState::kSynReceived && seg.seq == irs) {
            // The peer's SYN again: our SYN-ACK was lost.
            send_syn();
            return;
        }
        send_ack();
        return;
    }
    // 5. ACK.
    if (!(seg.flags & kAck)) return;
    if (state == TcpState::kSynReceived) {
        if (!(seq_lt(snd_una, seg.ack) && seq_le(seg.ack, snd_max))) {
            stack_->tcp_send_reset(p, seg.ack, 0, false);
            return;
        }
        if (listener != nullptr && listener->nacc >= listener->backlog) {
            // The accept queue is full: ignore the ACK (Linux without
            // tcp_abort_on_overflow); our SYN-ACK retransmission asks for
            // it again once the application accepted.
            return;
        }
        snd_una = seg.ack;
        if (seq_lt(snd_nxt, snd_una)) snd_nxt = snd_una;
        snd_wnd = seg.wnd << snd_wscale;
        if (!wscale_ok) snd_wnd = seg.wnd;
        if (snd_wnd > max_sndwnd) max_sndwnd = snd_wnd;
        snd_wl1 = seg.seq;
        snd_wl2 = seg.ack;
        if (rtx_count == 0) update_rtt(now - rtt_start);
        establish(this);
        if (listener != nullptr) {
            TcpSocket* l = listener;
            unlink_syn(l, this);
            in_accept_queue = true;
            if (l->acc_tail != nullptr)
                l->acc_tail->q_next = this;
            else
                l->acc_head = this;
            l->acc_tail = this;
            l->nacc++;
            l->wake();
        }
    }
    if (seq_gt(seg.ack, snd_max)) {
        // Acknowledges what we never sent (RFC 9293; RFC 5961 §5).
        send_ack();
        return;
    }
    bool fin_sent = fin_queued && seq_gt(snd_max, snd_una + static_cast<uint32_t>(sndq.size()));
    if (seq_gt(seg.ack, snd_una)) {
        uint32_t acked = seg.ack - snd_una;
        uint32_t data_acked = acked > sndq.size() ? static_cast<uint32_t>(sndq.size()) : acked;
        sndq.drop(data_acked);
        snd_una = seg.ack;
        if (seq_lt(snd_nxt, snd_una)) snd_nxt = snd_una;
        if (rtt_timing && seq_gt(seg.ack, rtt_seq)) {
            update_rtt(now - rtt_start);
            rtt_timing = false;
        } else if (rtx_count > 0 && rtt_valid) {
            // Backoff ends with new data acknowledged (RFC 6298 §5.7 keeps
            // the backed-off RTO until a sample; recomputing from the
            // estimate avoids a long stall after one loss).
            update_rtt(srtt);
        }
        rtx_count = 0;
        if (in_recovery) {
            if (seq_ge(seg.ack, recover)) {
                // Full acknowledgment (RFC 6582 §3.2 step 3).
                uint32_t flight = snd_max - snd_una;
                cwnd = ssthresh < flight + mss ? ssthresh : flight + mss;
                in_recovery = false;
            } else {
                // Partial: retransmit the next hole, deflate (step 4).
                retransmit_first();
                cwnd = cwnd > acked ? cwnd - acked : mss;
                if (acked >= mss) cwnd += mss;
                start_rtx_timer();
            }
        } else if (cwnd < ssthresh) {
            // Slow start with appropriate byte counting (RFC 3465, L = 2
            // segments: a delayed ACK covers two).
            cwnd += acked < 2u * mss ? acked : 2u * mss;
        } else {
            // Congestion avoidance: about one segment per window of bytes
            // acknowledged (RFC 5681 §3.1, eq. 3 counted in bytes).
            uint32_t inc = static_cast<uint32_t>(uint64_t(mss) * acked / cwnd);
            cwnd += inc > 0 ? inc : 1;
        }
        dupacks = 0;
        if (snd_una == snd_max)
            t_rtx = kNever;
        else if (!in_recovery || seq_ge(seg.ack, recover))
            start_rtx_timer();
        persist_shift = 0;
    } else if (seg.ack == snd_una && seg.data.empty() && !(seg.flags & kFin) &&
               snd_una != snd_max && (seg.wnd << snd_wscale) == snd_wnd) {
        // A duplicate ACK (RFC 5681 §2).
        dupacks++;
        if (dupacks == 3 && !in_recovery && seq_gt(snd_una, recover - 1)) {
            uint32_t flight = snd_max - snd_una;
            ssthresh = flight / 2 > 2u * mss ? flight / 2 : 2u * mss;
            recover = snd_max;
            in_recovery = true;
            retransmit_first();
            cwnd = ssthresh + 3u * mss;
            start_rtx_timer();
        } else if (dupacks > 3 && in_recovery) {
            cwnd += mss;
        }
    }
    // The send window (RFC 9293 §3.10.7.4, fifth check).
    if (seq_lt(snd_wl1, seg.seq) || (snd_wl1 == seg.seq && seq_le(snd_wl2, seg.ack))) {
        snd_wnd = seg.wnd << snd_wscale;
        snd_wl1 = seg.seq;
        snd_wl2 = seg.ack;
        if (snd_wnd > max_sndwnd) max_sndwnd = snd_wnd;
        if (snd_wnd > 0) t_persist = kNever;
    }
    bool our_fin_acked = fin_sent && snd_una == snd_max;
    switch (state) {
        case TcpState::kFinWait1:
            if (our_fin_acked) {
                set_state(TcpState::kFinWait2);
                // An orphan waits for the peer's FIN a limited time
                // (Linux's tcp_fin_timeout, 60 s).
                if (owned_by_stack) arm(t_timewait, now + 60 * kSec);
            }
            break;
        case TcpState::kClosing:
            if (our_fin_acked) {
                enter_time_wait();
                return;
            }
            break;
        case TcpState::kLastAck:
            if (our_fin_acked) {
                terminate(0);
                return;
            }
            break;
        case TcpState::kTimeWait:
            if (seg.flags & kFin) {
                send_ack();
                arm(t_timewait, now + 60 * kSec);
            }
            return;
        default:
            break;
    }

    // 7. Segment text.
    bool need_ack = false;
    bool data_state = state == TcpState::kEstablished || state == TcpState::kFinWait1 ||
                      state == TcpState::kFinWait2;
    Bytes data = seg.data;
    uint32_t seq = seg.seq;
    if (data_state && !data.empty()) {
        if (owned_by_stack) {
            // Nobody will read this: reset (as Linux does after close()).
            send_reset();
            terminate(0);
            return;
        }
        if (seq_lt(seq, rcv_nxt)) {
            uint32_t skip = rcv_nxt - seq;
            data = data.subspan(skip);
            seq = rcv_nxt;
        }
        uint32_t space = static_cast<uint32_t>(rcvq.space());
        uint32_t off = seq - rcv_nxt;
        if (off >= space) {
            data = Bytes();
        } else if (data.size() > space - off) {
            data = data.subspan(0, space - off);
        }
        if (!data.empty()) {
            size_t base = rcvq.size();
            if (!rcvq.reserve(base + off + data.size())) {
                data = Bytes();  // out of memory: as if lost
                need_ack = true;
            }
        }
        if (!data.empty()) {
            size_t base = rcvq.size();
            if (off == 0) {
                rcvq.write_at(base, data.data(), data.size());
                rcvq.commit(data.size());
                rcv_nxt += static_cast<uint32_t>(data.size());
                bool had_holes = nooo > 0;
                // Pull in out-of-order runs the new bytes reached.
                while (nooo > 0 && seq_le(ooo[0].start, rcv_nxt)) {
                    if (seq_gt(ooo[0].end, rcv_nxt)) {
                        rcvq.commit(ooo[0].end - rcv_nxt);
                        rcv_nxt = ooo[0].end;
                    }
                    for (int i = 0; i + 1 < nooo; ++i) ooo[i] = ooo[i + 1];
                    nooo--;
                }
                // At least every second full-sized segment's worth of bytes
                // is acknowledged (RFC 5681 §4.2; counted in bytes, so a
                // device's coalesced 64 KiB segment is answered at once, as
                // Linux does after GRO); a filled hole at once.
                if (had_holes)
                    need_ack = true;
                else
                    ack_received_data(false, data.size());
            } else {
                rcvq.write_at(base + off, data.data(), data.size());
                uint32_t s0 = seq, e0 = seq + static_cast<uint32_t>(data.size());
                int i = 0;
                while (i < nooo && seq_lt(ooo[i].end, s0)) ++i;
                if (i < nooo && seq_le(ooo[i].start, e0)) {
                    if (seq_lt(s0, ooo[i].start)) ooo[i].start = s0;
                    if (seq_gt(e0, ooo[i].end)) ooo[i].end = e0;
                    while (i + 1 < nooo && seq_le(ooo[i + 1].start, ooo[i].end)) {
                        if (seq_gt(ooo[i + 1].end, ooo[i].end)) ooo[i].end = ooo[i + 1].end;
                        for (int j = i + 1; j + 1 < nooo; ++j) ooo[j] = ooo[j + 1];
                        nooo--;
                    }
                } else if (nooo < kOooRanges) {
                    for (int j = nooo; j > i; --j) ooo[j] = ooo[j - 1];
                    ooo[i].start = s0;
                    ooo[i].end = e0;
                    nooo++;
                }
                // Out of order: a duplicate ACK at once (RFC 5681 §4.2).
                need_ack = true;
            }
        } else {
            need_ack = true;  // a duplicate or beyond the window
        }
    }
    // 8. FIN.
    if (seg.flags & kFin) {
        uint32_t fin_seq = seg.seq + static_cast<uint32_t>(seg.data.size());
        if (fin_seq != rcv_nxt && data_state) {
            // Ahead of a hole: remembered until the bytes before it come.
            ooo_fin = true;
            ooo_fin_seq = fin_seq;
            need_ack = true;
        } else if (fin_seq == rcv_nxt || !data_state) {
            if (data_state || state == TcpState::kCloseWait || state == TcpState::kClosing ||
                state == TcpState::kLastAck) {
                if (data_state) {
                    rcv_nxt++;
                    fin_received = true;
                }
                need_ack = true;
                switch (state) {
                    case TcpState::kEstablished:
                        set_state(TcpState::kCloseWait);
                        break;
                    case TcpState::kFinWait1:
                        if (snd_una == snd_max && fin_queued) {
                            send_ack();
                            enter_time_wait();
                            return;
                        }
                        set_state(TcpState::kClosing);
                        break;
                    case TcpState::kFinWait2:
                        send_ack();
                        enter_time_wait();
                        return;
                    default:
                        break;
                }
            }
        }
    } else if (ooo_fin && ooo_fin_seq == rcv_nxt && data_state) {
        // The hole before an earlier FIN is filled.
        ooo_fin = false;
        rcv_nxt++;
        fin_received = true;
        need_ack = true;
        if (state == TcpState::kEstablished) {
            set_state(TcpState::kCloseWait);
        } else if (state == TcpState::kFinWait1) {
            set_state(snd_una == snd_max && fin_queued ? TcpState::kTimeWait : TcpState::kClosing);
            if (state == TcpState::kTimeWait) {
                send_ack();
                enter_time_wait();
                return;
            }
        } else if (state == TcpState::kFinWait2) {
            send_ack();
            enter_time_wait();
            return;
        }
    }
    uint32_t acks_before = tx_acks;
    output();
    if (need_ack && tx_acks == acks_before) send_ack();
}

}  // namespace kiln::net
