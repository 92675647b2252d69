// TCP's sending side (RFC 9293 §3.8, RFC 5681, RFC 6582, RFC 6298, RFC
// 7323 §2): building segments, the send loop with Nagle (RFC 1122
// §4.2.3.4) and sender-side silly window avoidance, retransmission with
// exponential backoff, NewReno fast recovery, delayed ACKs (RFC 1122
// §4.2.3.2: at most every second full segment, 40 ms), zero-window probes,
// keepalives (RFC 1122 §4.2.3.6) and the TIME-WAIT clock.
#include "net/socket.h"

namespace kiln::net {

namespace {

// RFC 6298 §2.4 asks for a 1 s minimum; like Linux we use 200 ms, which a
// virtual link's delays never approach, so a lost segment on a fast path
// costs 200 ms rather than a second.
constexpr uint64_t kRtoMin = 200 * kMs;
constexpr uint64_t kRtoMax = 120 * kSec;
constexpr uint64_t kDelAck = 40 * kMs;
constexpr uint64_t kPersistMax = 60 * kSec;
constexpr uint64_t kTimeWait = 60 * kSec;  // 2*MSL with MSL = 30 s
constexpr int kMaxRetries = 15;            // Linux's tcp_retries2
constexpr int kSynAckRetries = 5;
constexpr int kOrphanProbes = 8;
constexpr uint64_t kCorkMax = 200 * kMs;
constexpr int kMaxTimeWait = 8192;
constexpr uint64_t kTxRetry = kMs;  // after the device's queue was full

struct Header {
    uint8_t* p;
    size_t len;
};

}  // namespace

uint32_t Segment::len() const {
    return static_cast<uint32_t>(data.size()) + ((flags & kSyn) ? 1 : 0) + ((flags & kFin) ? 1 : 0);
}

uint32_t TcpSocket::rcv_window() const {
    size_t space = rcvq.space();
    // Receiver-side silly window avoidance (RFC 1122 §4.2.3.3): no window
    // smaller than a segment or a quarter of the buffer is offered.
    size_t min_open = rcvq.limit() / 4 < mss ? rcvq.limit() / 4 : mss;
    if (space < min_open) space = 0;
    size_t max = size_t{65535} << rcv_wscale;
    if (space > max) space = max;
    uint32_t w = static_cast<uint32_t>(space);
    // Never move the right edge back (RFC 9293 §3.8.6.2.2).
    if (seq_gt(rcv_adv, rcv_nxt + w)) w = rcv_adv - rcv_nxt;
    return w;
}

namespace {

// Writes the fixed header; returns its length (options included).
size_t build_header(TcpSocket* s, uint8_t* t, uint32_t seq, uint8_t flags, uint32_t wnd,
                    bool syn_options, bool no_data) {
    store_be16(t, s->lport);
    store_be16(t + 2, s->rport);
    store_be32(t + 4, seq);
    store_be32(t + 8, (flags & kAck) ? s->rcv_nxt : 0);
    size_t hlen = 20;
    if (syn_options) {
        uint8_t* o = t + 20;
        // MSS (RFC 9293 §3.7.1) and window scale (RFC 7323 §2.2).
        o[0] = 2;
        o[1] = 4;
        uint16_t our_mss = s->peer_mss;  // set to our own before the SYN
        store_be16(o + 2, our_mss);
        hlen = 24;
        // A SYN-ACK carries the option only when the SYN did (RFC 7323 §1.3).
        if (!(flags & kAck) || s->wscale_ok) {
            o[4] = 1;  // NOP
            o[5] = 3;
            o[6] = 3;
            o[7] = s->rcv_wscale;
            hlen = 28;
        }
        // SACK-permitted (RFC 2018 §2), likewise.
        if (!(flags & kAck) || s->sack_ok) {
            uint8_t* x = t + hlen;
            x[0] = 1;
            x[1] = 1;
            x[2] = 4;
            x[3] = 2;
            hlen += 4;
        }
    } else if (no_data && s->sack_ok && s->nooo > 0 && (flags & kAck)) {
        // SACK blocks (RFC 2018 §3-4) on segments without data: the run
        // that holds the latest out-of-order segment first, then the
        // others, at most four (the option space).
        uint8_t* o = t + 20;
        o[0] = 1;
        o[1] = 1;
        o[2] = 5;
        int n = 0;
        auto put = [&](const TcpSocket::Range& r) {
            store_be32(o + 4 + 8 * n, r.start);
            store_be32(o + 8 + 8 * n, r.end);
            n++;
        };
        int first = s->ooo_latest < s->nooo ? s->ooo_latest : 0;
        put(s->ooo[first]);
        for (int i = 0; i < s->nooo && n < 4; ++i)
            if (i != first) put(s->ooo[i]);
        o[3] = static_cast<uint8_t>(2 + 8 * n);
        hlen = 20 + 4 + 8 * static_cast<size_t>(n);
    }
    t[12] = static_cast<uint8_t>((hlen / 4) << 4);
    t[13] = flags;
    store_be16(t + 14, static_cast<uint16_t>(wnd > 65535 ? 65535 : wnd));
    store_be16(t + 16, 0);
    store_be16(t + 18, 0);
    return hlen;
}

}  // namespace

namespace {

// Sends one segment: data [seq, seq+len) from the send queue, flags as
// given. Returns false when it could not go out (no route, no memory).
bool xmit(TcpSocket* s, uint32_t seq, size_t len, uint8_t flags) {
    StackImpl* st = s->stack_;
    auto r = st->route(s->remote, &s->local);
    if (!r.ok()) return false;
    uint8_t* t = st->l4_start(*r);
    bool syn = (flags & kSyn) != 0;
    uint32_t wnd;
    if (syn) {
        wnd = s->rcv_window();  // never scaled in a SYN (RFC 7323 §2.2)
        if (wnd > 65535) wnd = 65535;
    } else {
        wnd = s->rcv_window() >> s->rcv_wscale;
    }
    size_t hlen = build_header(s, t, seq, flags, wnd, syn, len == 0);
    if (len > 0) s->sndq.peek(seq - s->snd_una, t + hlen, len);
    uint16_t gso = len > s->mss ? s->mss : 0;
    auto res = st->ip_output(*r, s->remote, kProtoTcp, hlen + len, 16, s->ttl, s->tos, gso);
    if (!res.ok()) return false;
    if (flags & kAck) {
        s->tx_acks++;
        s->ack_pending = 0;
        s->ack_pending_bytes = 0;
        s->t_delack = kNever;
        uint32_t adv = syn ? wnd : (wnd << s->rcv_wscale);
        if (seq_gt(s->rcv_nxt + adv, s->rcv_adv)) s->rcv_adv = s->rcv_nxt + adv;
    }
    return true;
}

}  // namespace

void TcpSocket::path_mtu(uint16_t mtu, uint32_t seq) {
    if (!(seq_le(snd_una, seq) && seq_lt(seq, snd_max))) return;
    // Trust no report below the protocol minimums (576 for IPv4 as RFC
    // 1191 §3 suggests, 1280 for IPv6) nor one that would not shrink.
    uint16_t floor = remote.is_v4() ? 576 : 1280;
    if (mtu < floor) mtu = floor;
    uint32_t m = mtu - (remote.is_v4() ? 40u : 60u);
    if (state == TcpState::kListen || state == TcpState::kClosed || m >= mss) return;
    mss = static_cast<uint16_t>(m);
    tso_seg = 0;
    if (cwnd > 10u * mss) cwnd = 10u * mss;
    // What was sent in the larger size is gone: send it again now.
    if (snd_una != snd_max && state != TcpState::kSynSent && state != TcpState::kSynReceived) {
        snd_nxt = snd_una;
        rtt_timing = false;
        output();
    }
}

void TcpSocket::start_rtx_timer() {
    arm(t_rtx, stack_->now() + rto);
}

void TcpSocket::send_syn() {
    uint8_t flags = state == TcpState::kSynSent ? kSyn : (kSyn | kAck);
    // The SYN carries our MSS; peer_mss holds it until the peer's arrives
    // (see build_header), which is why the swap below.
    uint16_t theirs = peer_mss;
    if (rtx_count == 0) rtt_start = stack_->now();
    auto r = stack_->route(remote, &local);
    uint16_t mtu = r.ok() ? r->mtu : 1280;
    uint16_t ours = static_cast<uint16_t>(mtu - (remote.is_v4() ? 40 : 60));
    if (user_mss > 0 && user_mss < ours) ours = static_cast<uint16_t>(user_mss);
    peer_mss = ours;
    xmit(this, iss, 0, flags);
    peer_mss = theirs;
    if (seq_gt(iss + 1, snd_nxt)) snd_nxt = iss + 1;
    if (seq_gt(snd_nxt, snd_max)) snd_max = snd_nxt;
    if (t_rtx == kNever) start_rtx_timer();
}

void TcpSocket::send_ack() {
    xmit(this, snd_nxt, 0, kAck);
}

void TcpSocket::send_reset() {
    xmit(this, snd_nxt, 0, kRst | kAck);
    stack_->stats.tcp_rst_sent++;
}

void TcpSocket::retransmit_first() {
    size_t queued = sndq.size();
    size_t len = queued < mss ? queued : mss;
    uint8_t flags = kAck;
    if (fin_queued && len == queued && seq_gt(snd_max, snd_una + static_cast<uint32_t>(queued)))
        flags |= kFin;
    if (len == 0 && !(flags & kFin)) return;
    if (len > 0) flags |= kPsh;
    xmit(this, snd_una, len, flags);
    stack_->stats.tcp_retransmits++;
    total_retrans++;
    rtt_timing = false;  // Karn: no sample from a retransmitted segment
}

void TcpSocket::sack_update(const Segment& seg) {
    // Forget what SND.UNA passed.
    int keep = 0;
    for (int i = 0; i < nsacked; ++i) {
        if (seq_le(sacked[i].end, snd_una)) continue;
        if (seq_lt(sacked[i].start, snd_una)) sacked[i].start = snd_una;
        sacked[keep++] = sacked[i];
    }
    nsacked = keep;
    for (int b = 0; b < seg.nsack; ++b) {
        uint32_t s0 = seg.sack[b][0], e0 = seg.sack[b][1];
        // Only blocks within what is in flight count; bogus ones are
        // ignored (RFC 6675 §5.1).
        if (!seq_lt(s0, e0) || !seq_gt(s0, snd_una) || seq_gt(e0, snd_max)) continue;
        int i = 0;
        while (i < nsacked && seq_lt(sacked[i].end, s0)) ++i;
        if (i < nsacked && seq_le(sacked[i].start, e0)) {
            if (seq_lt(s0, sacked[i].start)) sacked[i].start = s0;
            if (seq_gt(e0, sacked[i].end)) sacked[i].end = e0;
            while (i + 1 < nsacked && seq_le(sacked[i + 1].start, sacked[i].end)) {
                if (seq_gt(sacked[i + 1].end, sacked[i].end)) sacked[i].end = sacked[i + 1].end;
                for (int j = i + 1; j + 1 < nsacked; ++j) sacked[j] = sacked[j + 1];
                nsacked--;
            }
        } else if (nsacked < kSacked) {
            for (int j = nsacked; j > i; --j) sacked[j] = sacked[j - 1];
            sacked[i].start = s0;
            sacked[i].end = e0;
            nsacked++;
        }
    }
}

bool TcpSocket::retransmit_next_hole() {
    // The first byte at or after what this recovery already resent that
    // the peer does not hold, below the highest byte it does hold (RFC
    // 6675's NextSeg() rule 1, one segment per ACK).
    if (nsacked == 0) return false;
    uint32_t s = seq_gt(rexmit_hi, snd_una) ? rexmit_hi : snd_una;
    uint32_t next_start = sacked[nsacked - 1].end;
    for (int i = 0; i < nsacked; ++i) {
        if (seq_le(sacked[i].start, s) && seq_lt(s, sacked[i].end)) s = sacked[i].end;
        if (seq_gt(sacked[i].start, s)) {
            next_start = sacked[i].start;
            break;
        }
    }
    if (!seq_lt(s, sacked[nsacked - 1].end)) return false;
    uint32_t off = s - snd_una;
    if (off >= sndq.size()) return false;
    size_t len = next_start - s;
    if (len > mss) len = mss;
    if (len > sndq.size() - off) len = sndq.size() - off;
    if (len == 0) return false;
    if (!xmit(this, s, len, kAck)) return false;
    stack_->stats.tcp_retransmits++;
    total_retrans++;
    rexmit_hi = s + static_cast<uint32_t>(len);
    return true;
}

void TcpSocket::ack_received_data(bool force_now, size_t bytes) {
    ack_pending++;
    ack_pending_bytes += bytes;
    if (force_now || ack_pending_bytes >= 2u * mss) {
        send_ack();
    } else if (t_delack == kNever) {
        arm(t_delack, stack_->now() + kDelAck);
    }
}

void TcpSocket::output() {
    switch (state) {
        case TcpState::kEstablished:
        case TcpState::kCloseWait:
        case TcpState::kFinWait1:
        case TcpState::kClosing:
        case TcpState::kLastAck:
            break;
        default:
            return;
    }
    for (;;) {
        size_t queued = sndq.size();
        uint32_t sent = snd_nxt - snd_una;  // bytes (and maybe the FIN) out
        if (sent > queued) break;           // the FIN went already
        size_t avail = queued - sent;
        uint32_t inflight = sent;
        uint32_t win = snd_wnd < cwnd ? snd_wnd : cwnd;
        size_t usable = win > inflight ? win - inflight : 0;
        size_t len = avail;
        size_t max_seg = tso_seg > mss ? tso_seg : mss;
        if (len > max_seg) len = max_seg;
        if (len > usable) len = usable;
        bool fin = fin_queued && len == avail;
        if (len == 0 && !fin) {
            if (avail > 0 && snd_wnd == 0 && t_rtx == kNever && t_persist == kNever) {
                persist_shift = 0;
                arm(t_persist, stack_->now() + rto);
            }
            break;
        }
        if (len < avail && len < mss) {
            // Window-limited: sender SWS avoidance (RFC 9293 §3.8.6.2.1)
            // sends a partial segment only if it is half the largest
            // window the peer ever offered.
            if (len < max_sndwnd / 2) {
                if (inflight == 0 && t_persist == kNever) {
                    persist_shift = 0;
                    arm(t_persist, stack_->now() + rto);
                }
                break;
            }
        } else if (len < mss && !fin) {
            // The tail of the queue: Nagle holds it while anything is
            // unacknowledged; TCP_CORK/MSG_MORE hold it regardless.
            // Minshall's variant (as Linux): only an unacknowledged small
            // segment holds the next one back, not full ones in flight.
            if (cork) {
                // Linux sends a corked partial segment after 200 ms anyway.
                if (t_cork == kNever) arm(t_cork, stack_->now() + kCorkMax);
                break;
            }
            if (!nodelay && inflight > 0 && seq_gt(snd_sml, snd_una)) break;
        }
        uint8_t flags = kAck;
        if (len > 0 && len == avail) flags |= kPsh;
        if (fin) flags |= kFin;
        // A segment the device could not take (its queue full) is tried
        // again shortly (kTxRetry) rather than treated as lost: left
        // unsent, nothing would try again until the peer spoke, and
        // counting it lost would cost a whole RTO and the window.
        if (!xmit(this, snd_nxt, len, flags)) {
            tx_stalled = true;
            uint64_t retry = stack_->now() + kTxRetry;
            if (t_rtx > retry) arm(t_rtx, retry);
            break;
        }
        if (!rtt_timing && len > 0 && snd_nxt == snd_max) {
            rtt_timing = true;
            rtt_seq = snd_nxt;
            rtt_start = stack_->now();
        }
        if (snd_nxt != snd_max) {
            stack_->stats.tcp_retransmits++;
            total_retrans++;
        }
        if (len < mss) snd_sml = snd_nxt + static_cast<uint32_t>(len);
        snd_nxt += static_cast<uint32_t>(len) + (fin ? 1 : 0);
        if (seq_gt(snd_nxt, snd_max)) snd_max = snd_nxt;
        if (t_rtx == kNever) start_rtx_timer();
        t_persist = kNever;
        if (fin) break;
    }
}

void TcpSocket::update_rtt(uint64_t r) {
    // RFC 6298 §2.2-2.3 with alpha 1/8, beta 1/4; clock granularity 1 ms.
    if (!rtt_valid) {
        srtt = r;
        rttvar = r / 2;
        rtt_valid = true;
    } else {
        uint64_t diff = srtt > r ? srtt - r : r - srtt;
        rttvar = (3 * rttvar + diff) / 4;
        srtt = (7 * srtt + r) / 8;
    }
    uint64_t var = 4 * rttvar;
    if (var < kMs) var = kMs;
    rto = srtt + var;
    if (rto < kRtoMin) rto = kRtoMin;
    if (rto > kRtoMax) rto = kRtoMax;
}

void TcpSocket::enter_time_wait() {
    if (owned_by_stack && stack_->time_wait_count >= kMaxTimeWait) {
        // Bounded like Linux's tcp_max_tw_buckets: past it, a closed
        // connection skips TIME-WAIT (a server closing first at thousands
        // of connections a second would otherwise hold them all for 60 s).
        terminate(0);
        return;
    }
    set_state(TcpState::kTimeWait);
    t_rtx = t_persist = t_keep = t_delack = kNever;
    arm(t_timewait, stack_->now() + kTimeWait);
    // Nothing more will be sent or received: the buffers go now, so many
    // connections in TIME-WAIT cost little.
    sndq.release();
    if (rcvq.size() == 0 && nooo == 0) rcvq.release();
}

void TcpSocket::on_timers(uint64_t now) {
    if (t_delack <= now) {
        t_delack = kNever;
        if (state != TcpState::kClosed && state != TcpState::kListen) send_ack();
    }
    if (t_cork <= now) {
        t_cork = kNever;
        bool was = cork;
        cork = false;
        output();
        cork = was;
    }
    if (t_timewait <= now) {
        t_timewait = kNever;
        // TIME-WAIT done, or an orphaned FIN-WAIT-2 gave up (Linux's
        // tcp_fin_timeout).
        terminate(0);
        return;
    }
    if (t_rtx <= now && tx_stalled) {
        // The device had no room: send on, no congestion response.
        t_rtx = kNever;
        tx_stalled = false;
        output();
        if (snd_una != snd_max && t_rtx == kNever) start_rtx_timer();
    }
    if (t_rtx <= now) {
        t_rtx = kNever;
        rtx_count++;
        if (state == TcpState::kSynSent || state == TcpState::kSynReceived) {
            int limit = state == TcpState::kSynSent ? syn_retries : kSynAckRetries;
            if (rtx_count > limit) {
                terminate(static_cast<int>(Errno::kETIMEDOUT));
                return;
            }
            rto = rto * 2 > kRtoMax ? kRtoMax : rto * 2;
            stack_->stats.tcp_retransmits++;
            send_syn();
            start_rtx_timer();
        } else if (snd_una != snd_max) {
            bool timed_out = rtx_count > kMaxRetries;
            if (user_timeout_ms > 0 && rtx_count > 1 &&
                rto * static_cast<uint64_t>(rtx_count) > uint64_t(user_timeout_ms) * kMs)
                timed_out = true;
            if (timed_out) {
                send_reset();
                terminate(static_cast<int>(Errno::kETIMEDOUT));
                return;
            }
            // RFC 5681 §3.1 (eq. 4) and §5: halve, restart from one
            // segment, go back to SND.UNA; RFC 6298 §5.5 doubles the RTO.
            uint32_t flight = snd_max - snd_una;
            ssthresh = flight / 2 > 2u * mss ? flight / 2 : 2u * mss;
            cwnd = mss;
            in_recovery = false;
            recover = snd_max;
            dupacks = 0;
            rtt_timing = false;
            rto = rto * 2 > kRtoMax ? kRtoMax : rto * 2;
            snd_nxt = snd_una;
            nsacked = 0;  // SACK information is advisory (RFC 2018 §8)
            if (snd_wnd == 0) {
                // Only a probe fits; the persist timer takes over.
                persist_shift = 0;
                arm(t_persist, now);
            } else {
                output();
            }
            if (snd_nxt != snd_una) start_rtx_timer();
        }
    }
    if (t_persist <= now) {
        t_persist = kNever;
        if (snd_wnd == 0 || seq_lt(snd_nxt, snd_una + static_cast<uint32_t>(sndq.size()))) {
            // A zero-window probe: an old sequence number draws an ACK
            // with the current window (RFC 9293 §3.8.6.1).
            if (owned_by_stack && persist_shift >= kOrphanProbes) {
                // Nobody will ever read what is queued: an orphan whose
                // peer keeps its window shut is reset (Linux's
                // tcp_orphan_retries).
                send_reset();
                terminate(0);
                return;
            }
            xmit(this, snd_una - 1, 0, kAck);
            if (persist_shift < 16) persist_shift++;
            uint64_t next = rto << persist_shift;
            if (next > kPersistMax) next = kPersistMax;
            arm(t_persist, now + next);
        }
    }
    if (t_keep <= now) {
        t_keep = kNever;
        if (keepalive && (state == TcpState::kEstablished || state == TcpState::kCloseWait)) {
            uint64_t idle = uint64_t(keepidle) * kSec;
            if (now < last_rx + idle && keep_probes == 0) {
                arm(t_keep, last_rx + idle);
            } else if (keep_probes >= keepcnt) {
                send_reset();
                terminate(static_cast<int>(Errno::kETIMEDOUT));
                return;
            } else {
                xmit(this, snd_una - 1, 0, kAck);
                keep_probes++;
                arm(t_keep, now + uint64_t(keepintvl) * kSec);
            }
        }
    }
}

uint64_t TcpSocket::deadline() const {
    uint64_t d = t_rtx;
    if (t_cork < d) d = t_cork;
    if (t_delack < d) d = t_delack;
    if (t_persist < d) d = t_persist;
    if (t_keep < d) d = t_keep;
    if (t_timewait < d) d = t_timewait;
    return d;
}

void StackImpl::tcp_timers() {
    if (now_ < tcp_next_) return;
    // Visit every connection once, firing what is due, and learn the exact
    // next deadline on the way (timers set meanwhile lower it further).
    tcp_next_ = kNever;
    uint64_t next = kNever;
    for (InetSocket* s = tcp_list; s != nullptr;) {
        InetSocket* nx = s->list_next;
        auto* t = static_cast<TcpSocket*>(s);
        if (t->deadline() <= now_) {
            t->on_timers(now_);
            t->wake();
        }
        if (!t->retired && t->deadline() < next) next = t->deadline();
        s = nx;
    }
    note_tcp_deadline(next);
}

void StackImpl::tcp_send_reset(const IpPacket& p, uint32_t seq, uint32_t ack, bool with_ack) {
    if (p.to_broadcast || p.dst.is_multicast()) return;
    auto r = route(p.src, &p.dst);
    if (!r.ok()) return;
    uint8_t* t = l4_start(*r);
    const uint8_t* in = p.payload.data();
    store_be16(t, load_be16(in + 2));
    store_be16(t + 2, load_be16(in));
    store_be32(t + 4, seq);
    store_be32(t + 8, with_ack ? ack : 0);
    t[12] = 5 << 4;
    t[13] = static_cast<uint8_t>(kRst | (with_ack ? kAck : 0));
    store_be16(t + 14, 0);
    store_be16(t + 16, 0);
    store_be16(t + 18, 0);
    (void)ip_output(*r, p.src, kProtoTcp, 20, 16);
    stats.tcp_rst_sent++;
}

}  // namespace kiln::net
