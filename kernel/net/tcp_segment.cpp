// TCP's "segment arrives" for every state but LISTEN (RFC 9293 §3.10.7.3
// and §3.10.7.4): sequence and RST checks with RFC 5961's challenge ACKs,
// ACK processing with RFC 5681/6582 congestion control and RFC 6298 RTT
// samples, out-of-order reassembly in the receive ring, and the FIN.
// Parsing, demultiplexing and the listener are in tcp_input.cpp.
#include "net/socket.h"

namespace kiln::net {

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
        sack_ok = seg.sack_ok;
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
            tcp_unlink_syn(l, this);
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
    bool acks_new = seq_gt(seg.ack, snd_una);
    if (sack_ok && (seg.nsack > 0 || nsacked > 0)) {
        // The scoreboard is kept relative to the SND.UNA this ACK makes.
        uint32_t una = snd_una;
        if (acks_new) snd_una = seg.ack;
        sack_update(seg);
        snd_una = una;
    }
    if (acks_new) {
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
                uint32_t to =
                    snd_una + (sndq.size() < mss ? static_cast<uint32_t>(sndq.size()) : mss);
                if (seq_gt(to, rexmit_hi)) rexmit_hi = to;
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
            rexmit_hi = snd_una + (sndq.size() < mss ? static_cast<uint32_t>(sndq.size()) : mss);
            cwnd = ssthresh + 3u * mss;
            start_rtx_timer();
        } else if (dupacks > 3 && in_recovery) {
            cwnd += mss;
            // With SACK the further holes go now, one per duplicate ACK,
            // rather than one per round trip (NewReno's partial ACKs).
            if (sack_ok) retransmit_next_hole();
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
        if (owned_by_stack && seq_gt(seq + static_cast<uint32_t>(data.size()), rcv_nxt)) {
            // New data nobody will read: reset (as Linux does after
            // close()); a retransmission of what we had is only ACKed.
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
                ooo_latest = i;
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
