// TCP sockets' calls (tcp(7)): bind, listen, accept, connect, send, recv,
// shutdown, close, options and readiness. The protocol itself is in
// tcp_input.cpp and tcp_output.cpp.
#include "net/socket.h"

namespace kiln::net {

TcpSocket::~TcpSocket() {
    stack_->tcp_hash_remove(this);
}

Result<void> TcpSocket::bind(const SockAddr& sa) {
    StackEntry e(stack_);
    if (state != TcpState::kClosed || connected) return Error(Errno::kEINVAL);
    IpAddr a = TRY(check_addr(sa));
    if (a.is_multicast() || a.is_v4_broadcast()) return Error(Errno::kEADDRNOTAVAIL);
    return bind_common(sa);
}

Result<void> TcpSocket::listen(int bl) {
    StackEntry e(stack_);
    if (state == TcpState::kListen) {
        backlog = bl < 1 ? 1 : (bl > 4096 ? 4096 : bl);
        return {};
    }
    if (state != TcpState::kClosed || connected) return Error(Errno::kEINVAL);
    if (!bound) {
        TRY(autobind(local));
    } else if (stack_->port_in_use(kProtoTcp, local, lport, this, false)) {
        // Another socket took the port meanwhile with SO_REUSEADDR; only one
        // may listen.
        for (InetSocket* o = stack_->tcp_list; o != nullptr; o = o->list_next) {
            auto* t = static_cast<TcpSocket*>(o);
            if (t != this && t->state == TcpState::kListen && t->lport == lport &&
                t->local == local && !(reuseport && t->reuseport))
                return Error(Errno::kEADDRINUSE);
        }
    }
    backlog = bl < 1 ? 1 : (bl > 4096 ? 4096 : bl);
    setup_buffers();
    set_state(TcpState::kListen);
    return {};
}

Result<Socket*> TcpSocket::accept(SockAddr* peer) {
    StackEntry e(stack_);
    if (state != TcpState::kListen) return Error(Errno::kEINVAL);
    TcpSocket* c = acc_head;
    if (c == nullptr) return Error(Errno::kEAGAIN);
    acc_head = c->q_next;
    if (acc_head == nullptr) acc_tail = nullptr;
    nacc--;
    c->q_next = nullptr;
    c->in_accept_queue = false;
    c->listener = nullptr;
    if (peer != nullptr) *peer = to_sockaddr(family_, c->remote, c->rport);
    return static_cast<Socket*>(c);
}

Result<void> TcpSocket::connect(const SockAddr& sa) {
    StackEntry e(stack_);
    switch (state) {
        case TcpState::kListen:
            return Error(Errno::kEISCONN);
        case TcpState::kSynSent:
        case TcpState::kSynReceived:
            return Error(Errno::kEALREADY);
        case TcpState::kClosed:
            if (connected || error_ != 0) {
                // A finished attempt: report how it ended once.
                if (error_ != 0) return Error(static_cast<Errno>(take_error()));
                return Error(Errno::kEISCONN);
            }
            break;
        default:
            return Error(Errno::kEISCONN);
    }
    if (sa.family == 0) return Error(Errno::kEAFNOSUPPORT);
    IpAddr to = TRY(check_addr(sa));
    if (family_ == kAfInet6 && v6only && to.is_v4()) return Error(Errno::kENETUNREACH);
    if (sa.port == 0) return Error(Errno::kECONNREFUSED);
    if (to.is_any6())
        to.b[15] = 1;
    else if (to.is_any())
        to = IpAddr::v4(127, 0, 0, 1);
    if (to.is_multicast() || to.is_v4_broadcast()) return Error(Errno::kENETUNREACH);
    Route r = TRY(stack_->route(to, &local));
    if (r.src.is_v4() != to.is_v4()) return Error(Errno::kENETUNREACH);
    IpAddr src = local.is_any() ? r.src : local;
    if (!bound) {
        TRY(autobind(to));
    }
    if (stack_->tcp_lookup(src, lport, to, sa.port) != nullptr) return Error(Errno::kEADDRNOTAVAIL);
    local = src;
    remote = to;
    rport = sa.port;
    setup_buffers();
    wscale_ok = false;
    iss = stack_->isn(local, lport, remote, rport);
    snd_una = snd_nxt = snd_max = iss;
    recover = iss;
    rtx_count = 0;
    rto = kSec;  // RFC 6298 §2.1
    set_state(TcpState::kSynSent);
    stack_->tcp_hash_add(this);
    send_syn();
    // Over loopback the handshake completes on the way out of the stack;
    // either way the caller learns it from writability (connect(2)).
    return Error(Errno::kEINPROGRESS);
}

Result<size_t> TcpSocket::send(Span<const uint8_t> data, int flags, const SockAddr* to) {
    StackEntry e(stack_);
    (void)to;  // ignored on a connected stream, as Linux does
    if (error_ != 0) return Error(static_cast<Errno>(take_error()));
    switch (state) {
        case TcpState::kEstablished:
        case TcpState::kCloseWait:
            break;
        case TcpState::kSynSent:
        case TcpState::kSynReceived:
            return Error(Errno::kEAGAIN);
        case TcpState::kClosed:
        case TcpState::kListen:
            return Error(connected ? Errno::kEPIPE : Errno::kENOTCONN);
        default:
            return Error(Errno::kEPIPE);
    }
    if (shut_wr || fin_queued) return Error(Errno::kEPIPE);
    if (flags & kMsgOob) {
        net_log("kiln: net: TCP urgent data (MSG_OOB) is not supported");
        return Error(Errno::kEOPNOTSUPP);
    }
    if (data.empty()) return 0;
    size_t n = sndq.push(data.data(), data.size());
    if (n == 0) return Error(Errno::kEAGAIN);
    bool was_corked = cork;
    if (flags & kMsgMore) cork = true;
    output();
    cork = was_corked;
    return n;
}

void TcpSocket::maybe_window_update() {
    if (state != TcpState::kEstablished && state != TcpState::kFinWait1 &&
        state != TcpState::kFinWait2)
        return;
    // Tell the peer when the window grew by two segments or half the
    // buffer (RFC 1122 §4.2.3.3), or reopened from (nearly) closed.
    uint32_t now_wnd = rcv_window();
    uint32_t old_wnd = seq_gt(rcv_adv, rcv_nxt) ? rcv_adv - rcv_nxt : 0;
    uint32_t step = static_cast<uint32_t>(rcvq.limit() / 2);
    if (step > 2u * mss) step = 2u * mss;
    if (now_wnd >= old_wnd + step || (old_wnd < mss && now_wnd >= mss)) send_ack();
}

Result<size_t> TcpSocket::recv(Span<uint8_t> buf, int flags, SockAddr* from, size_t* full_len) {
    StackEntry e(stack_);
    if (flags & kMsgOob) return Error(Errno::kEINVAL);  // no urgent data is kept
    if (state == TcpState::kListen) return Error(Errno::kENOTCONN);
    size_t have = rcvq.size();
    if (have > 0) {
        size_t n = buf.size() < have ? buf.size() : have;
        // MSG_TRUNC on a stream discards instead of copying (tcp(7)).
        if (flags & kMsgTrunc) n = buf.size() < have ? buf.size() : have;
        if (!(flags & kMsgTrunc) && n > 0) rcvq.peek(0, buf.data(), n);
        if (!(flags & kMsgPeek)) {
            rcvq.drop(n);
            maybe_window_update();
        }
        if (from != nullptr) *from = to_sockaddr(family_, remote, rport);
        if (full_len != nullptr) *full_len = n;
        return n;
    }
    if (buf.empty()) return 0;
    if (error_ != 0) return Error(static_cast<Errno>(take_error()));
    if (fin_received || shut_rd) return 0;
    if (state == TcpState::kClosed) {
        if (connected) return 0;
        return Error(Errno::kENOTCONN);
    }
    return Error(Errno::kEAGAIN);
}

Result<void> TcpSocket::shutdown(int how) {
    StackEntry e(stack_);
    if (how < kShutRd || how > kShutRdWr) return Error(Errno::kEINVAL);
    if (state == TcpState::kListen) {
        // Linux: shutdown of a listener stops it (accept then fails).
        if (how != kShutWr) close_children_and_stop();
        return {};
    }
    if (!connected && state != TcpState::kSynSent && state != TcpState::kSynReceived)
        return Error(Errno::kENOTCONN);
    if (how != kShutWr) shut_rd = true;
    if (how != kShutRd && !shut_wr) {
        shut_wr = true;
        if (state == TcpState::kEstablished) {
            fin_queued = true;
            set_state(TcpState::kFinWait1);
        } else if (state == TcpState::kCloseWait) {
            fin_queued = true;
            set_state(TcpState::kLastAck);
        } else if (state == TcpState::kSynSent) {
            terminate(0);
        }
        output();
    }
    wake();
    return {};
}

void TcpSocket::close_children_and_stop() {
    auto drop = [this](TcpSocket* c) {
        c->listener = nullptr;
        c->in_accept_queue = false;
        c->owned_by_stack = true;
        c->send_reset();
        c->terminate(0);
    };
    while (syn_q != nullptr) {
        TcpSocket* c = syn_q;
        syn_q = c->q_next;
        c->q_next = nullptr;
        drop(c);
    }
    nsyn = 0;
    while (acc_head != nullptr) {
        TcpSocket* c = acc_head;
        acc_head = c->q_next;
        c->q_next = nullptr;
        if (c->state == TcpState::kClosed) {
            c->listener = nullptr;
            c->in_accept_queue = false;
            c->owned_by_stack = true;
            stack_->retire(c);
        } else {
            drop(c);
        }
    }
    acc_tail = nullptr;
    nacc = 0;
    set_state(TcpState::kClosed);
}

void TcpSocket::close() {
    StackEntry e(stack_);
    owned_by_stack = true;
    switch (state) {
        case TcpState::kListen:
            close_children_and_stop();
            stack_->retire(this);
            return;
        case TcpState::kClosed:
        case TcpState::kSynSent:
            terminate(0);
            return;
        default:
            break;
    }
    // Unread data, or SO_LINGER with a zero timeout: abort with RST
    // (RFC 2525 §2.17; socket(7)).
    if (rcvq.size() > 0 || (linger_on && linger_secs == 0)) {
        if (state != TcpState::kTimeWait) send_reset();
        terminate(0);
        return;
    }
    // FIXME: SO_LINGER with a timeout does not make close wait here; the
    // FIN is sent and the connection ends in the background.
    shut_rd = true;
    if (state == TcpState::kEstablished || state == TcpState::kSynReceived) {
        fin_queued = true;
        shut_wr = true;
        set_state(TcpState::kFinWait1);
        output();
    } else if (state == TcpState::kCloseWait) {
        fin_queued = true;
        shut_wr = true;
        set_state(TcpState::kLastAck);
        output();
    } else if (state == TcpState::kFinWait2) {
        arm(t_timewait, stack_->now() + 60 * kSec);
    }
}

uint32_t TcpSocket::poll_events() {
    uint32_t ev = 0;
    if (state == TcpState::kListen) return acc_head != nullptr ? fs::kPollReadable : 0;
    if (error_ != 0) ev |= fs::kPollErr;
    if (rcvq.size() > 0) ev |= fs::kPollReadable;
    if (fin_received || shut_rd) ev |= fs::kPollReadable | fs::kPollRdHup;
    switch (state) {
        case TcpState::kEstablished:
        case TcpState::kCloseWait:
            // Writable with room for half of what is queued (Linux's
            // sk_stream_wspace >= sk_stream_min_wspace).
            if (!shut_wr && sndq.space() > 0 && sndq.space() >= sndq.size() / 2)
                ev |= fs::kPollWritable;
            break;
        case TcpState::kSynSent:
        case TcpState::kSynReceived:
            break;
        case TcpState::kClosed:
            ev |= fs::kPollHup | fs::kPollWritable;
            if (connected || error_ != 0) ev |= fs::kPollReadable | fs::kPollRdHup;
            break;
        default:
            break;
    }
    if (shut_wr && (fin_received || shut_rd)) ev |= fs::kPollHup;
    return ev;
}

Result<void> TcpSocket::set_option(int level, int name, Span<const uint8_t> v) {
    StackEntry e(stack_);
    auto read_int = [&v]() -> Result<int> {
        if (v.size() < 4) return Error(Errno::kEINVAL);
        int x;
        __builtin_memcpy(&x, v.data(), 4);
        return x;
    };
    if (level == kSolTcp) {
        switch (name) {
            case kTcpNodelay:
                nodelay = TRY(read_int()) != 0;
                if (nodelay) output();  // what Nagle held goes now
                return {};
            case kTcpCork:
                cork = TRY(read_int()) != 0;
                if (!cork) output();
                return {};
            case kTcpKeepidle:
            case kTcpKeepintvl: {
                int x = TRY(read_int());
                if (x < 1 || x > 32767) return Error(Errno::kEINVAL);
                (name == kTcpKeepidle ? keepidle : keepintvl) = x;
                if (keepalive && state == TcpState::kEstablished)
                    arm(t_keep, stack_->now() + uint64_t(keepidle) * kSec);
                return {};
            }
            case kTcpKeepcnt: {
                int x = TRY(read_int());
                if (x < 1 || x > 127) return Error(Errno::kEINVAL);
                keepcnt = x;
                return {};
            }
            case kTcpMaxseg: {
                int x = TRY(read_int());
                if (x != 0 && (x < 88 || x > 65535)) return Error(Errno::kEINVAL);
                user_mss = x;
                return {};
            }
            case kTcpSyncnt: {
                int x = TRY(read_int());
                if (x < 1 || x > 127) return Error(Errno::kEINVAL);
                syn_retries = x;
                return {};
            }
            case kTcpUserTimeout: {
                int x = TRY(read_int());
                if (x < 0) return Error(Errno::kEINVAL);
                user_timeout_ms = x;
                return {};
            }
            case kTcpQuickack:
                if (TRY(read_int()) != 0 && ack_pending > 0) send_ack();
                return {};
            case kTcpLinger2:
            case kTcpDeferAccept:
            case kTcpWindowClamp:
            case kTcpFastopen:
            case kTcpNotsentLowat:
                return store_option(level, name, v);
            case kTcpCongestion: {
                // Only NewReno is implemented; "reno" and "cubic" are
                // accepted (the latter runs as NewReno).
                return {};
            }
            default:
                return Error(Errno::kENOPROTOOPT);
        }
    }
    bool was_keepalive = keepalive;
    TRY(set_common_option(level, name, v));
    if (level == kSolSocket && name == kSoKeepalive && keepalive != was_keepalive) {
        arm(t_keep, keepalive && state == TcpState::kEstablished
                        ? stack_->now() + uint64_t(keepidle) * kSec
                        : kNever);
        keep_probes = 0;
    }
    if (level == kSolSocket && (name == kSoRcvbuf || name == kSoRcvbufforce) &&
        rcvbuf > rcvq.limit() && state != TcpState::kClosed) {
        // Growing takes effect at once (the window scale is fixed, so the
        // window may not cover all of it); shrinking waits for a new
        // connection, since offered window may not be withdrawn.
        rcvq.set_limit(rcvbuf);
        maybe_window_update();
    }
    if (level == kSolSocket && (name == kSoSndbuf || name == kSoSndbufforce) &&
        sndbuf >= sndq.size())
        sndq.set_limit(sndbuf);
    return {};
}

Result<size_t> TcpSocket::get_option(int level, int name, Span<uint8_t> v) {
    auto put = [&v](int x) -> Result<size_t> {
        size_t n = v.size() < 4 ? v.size() : 4;
        __builtin_memcpy(v.data(), &x, n);
        return n;
    };
    if (level == kSolTcp) {
        switch (name) {
            case kTcpNodelay:
                return put(nodelay);
            case kTcpCork:
                return put(cork);
            case kTcpKeepidle:
                return put(keepidle);
            case kTcpKeepintvl:
                return put(keepintvl);
            case kTcpKeepcnt:
                return put(keepcnt);
            case kTcpMaxseg:
                return put(connected ? mss : (user_mss ? user_mss : 536));
            case kTcpSyncnt:
                return put(syn_retries);
            case kTcpUserTimeout:
                return put(user_timeout_ms);
            case kTcpQuickack:
                return put(1);
            case kTcpCongestion: {
                static const char kName[16] = "reno";
                size_t n = v.size() < 16 ? v.size() : 16;
                __builtin_memcpy(v.data(), kName, n);
                return n;
            }
            case kTcpLinger2:
            case kTcpDeferAccept:
            case kTcpWindowClamp:
            case kTcpFastopen:
            case kTcpNotsentLowat:
                return load_option(level, name, v);
            case kTcpInfo: {
                // struct tcp_info (linux/tcp.h) up to tcpi_total_retrans;
                // what is not tracked (SACK, pacing, delivery) stays 0.
                static constexpr uint8_t kLinuxState[] = {7, 10, 2, 3, 1, 4, 5, 8, 11, 9, 6};
                uint8_t ti[104] = {};
                ti[0] = kLinuxState[static_cast<int>(state)];
                ti[1] = in_recovery ? 3 : 0;  // TCP_CA_Recovery / Open
                ti[2] = static_cast<uint8_t>(rtx_count > 255 ? 255 : rtx_count);
                ti[4] = static_cast<uint8_t>(rtx_count > 255 ? 255 : rtx_count);
                ti[5] = wscale_ok ? 4 : 0;  // TCPI_OPT_WSCALE
                ti[6] = static_cast<uint8_t>((snd_wscale & 15) | ((rcv_wscale & 15) << 4));
                auto put32 = [&ti](size_t off, uint64_t x) {
                    uint32_t y = x > 0xffffffffu ? 0xffffffffu : static_cast<uint32_t>(x);
                    __builtin_memcpy(ti + off, &y, 4);
                };
                put32(8, rto / 1000);
                put32(12, 40000);  // ato: the delayed-ACK timeout, us
                put32(16, mss);
                put32(20, mss);
                put32(24, mss ? (snd_max - snd_una) / mss : 0);
                put32(60, mss + (remote.is_v4() ? 40 : 60));
                put32(64, rcv_window());
                put32(68, srtt / 1000);
                put32(72, rttvar / 1000);
                put32(76, ssthresh);
                put32(80, mss ? cwnd / mss : 0);
                put32(84, mss);
                put32(88, 3);
                put32(96, rcvq.limit());
                put32(100, total_retrans);
                size_t n = v.size() < sizeof ti ? v.size() : sizeof ti;
                __builtin_memcpy(v.data(), ti, n);
                return n;
            }
            default:
                return Error(Errno::kENOPROTOOPT);
        }
    }
    if (level == kSolSocket && name == kSoAcceptconn) return put(state == TcpState::kListen);
    return get_common_option(level, name, v);
}

}  // namespace kiln::net
