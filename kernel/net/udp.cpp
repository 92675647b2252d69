// UDP (RFC 768, RFC 1122 §4.1; over IPv6 RFC 8200 §8.1): demultiplexing to
// the best-matching socket, a receive queue bounded by SO_RCVBUF, and
// ICMP port unreachable when nobody listens.
#include "mm/heap.h"
#include "mm/new.h"
#include "net/socket.h"

namespace kiln::net {

namespace {

// How well socket s matches a datagram: -1 not at all; more specific
// bindings win (a connected socket over a bound address over a wildcard).
int match_score(const InetSocket* s, const IpPacket& p, uint16_t sport, uint16_t dport) {
    if (!s->bound || s->lport != dport || !s->accepts_dst(p.dst)) {
        // A socket bound to a unicast address still hears broadcasts.
        if (!(s->bound && s->lport == dport && p.to_broadcast && p.dst.is_v4() && s->local.is_v4()))
            return -1;
    }
    int score = 0;
    if (!s->local.is_any()) score += 2;
    if (s->connected) {
        if (s->rport != sport || s->remote != p.src) return -1;
        score += 4;
    }
    if (s->family_ == kAfInet && !p.src.is_v4()) return -1;
    return score;
}

}  // namespace

void StackImpl::udp_input(IpPacket& p) {
    if (p.payload.size() < 8) {
        stats.rx_dropped++;
        return;
    }
    const uint8_t* h = p.payload.data();
    size_t len = load_be16(h + 4);
    if (len < 8 || len > p.payload.size()) {
        stats.rx_dropped++;
        return;
    }
    p.payload = p.payload.subspan(0, len);
    uint16_t csum = load_be16(h + 6);
    if (csum == 0 && !p.v4) {
        stats.rx_dropped++;  // RFC 8200 §8.1: mandatory over IPv6
        return;
    }
    if (csum != 0 && !l4_csum_ok(p)) {
        stats.bad_csum++;
        return;
    }
    uint16_t sport = load_be16(h);
    uint16_t dport = load_be16(h + 2);
    if (dport == 68 && p.v4 && dhcp_input(p)) return;
    UdpSocket* best = nullptr;
    int best_score = -1;
    for (InetSocket* s = udp_list; s != nullptr; s = s->list_next) {
        int sc = match_score(s, p, sport, dport);
        if (sc > best_score) {
            best_score = sc;
            best = static_cast<UdpSocket*>(s);
        }
    }
    if (best == nullptr) {
        icmp_error(p, 3, 3);
        return;
    }
    best->input(p, sport, p.payload.subspan(8));
}

UdpSocket::~UdpSocket() {
    if (cork_buf_ != nullptr) mm::heap_free(cork_buf_);
    while (head_ != nullptr) {
        Datagram* d = head_;
        head_ = d->next;
        mm::heap_free(d);
    }
}

void UdpSocket::input(const IpPacket& p, uint16_t sport, Bytes data) {
    if (shut_rd_ || queued_ + data.size() > rcvbuf) {
        stack_->stats.rx_dropped++;
        return;
    }
    auto* d = static_cast<Datagram*>(mm::heap_alloc(sizeof(Datagram) + data.size()));
    if (d == nullptr) {
        stack_->stats.rx_dropped++;
        return;
    }
    d->next = nullptr;
    d->from = p.src;
    d->port = sport;
    d->len = data.size();
    __builtin_memcpy(d->data, data.data(), data.size());
    if (tail_ != nullptr)
        tail_->next = d;
    else
        head_ = d;
    tail_ = d;
    queued_ += data.size();
    wake();
}

void UdpSocket::icmp_error(int err) {
    error_ = err;
    wake();
}

Result<void> UdpSocket::bind(const SockAddr& sa) {
    StackEntry e(stack_);
    return bind_common(sa);
}

Result<void> UdpSocket::listen(int) {
    return Error(Errno::kEOPNOTSUPP);
}

Result<Socket*> UdpSocket::accept(SockAddr*) {
    return Error(Errno::kEOPNOTSUPP);
}

Result<void> UdpSocket::connect(const SockAddr& sa) {
    StackEntry e(stack_);
    if (sa.family == 0) {
        // AF_UNSPEC dissolves the association (connect(2)).
        connected = false;
        remote = family_ == kAfInet ? IpAddr::any4() : IpAddr();
        rport = 0;
        if (!addr_locked) local = remote;
        if (!port_locked) {
            lport = 0;
            bound = false;
        }
        return {};
    }
    IpAddr to = TRY(check_addr(sa));
    if (sa.port == 0) return Error(Errno::kECONNREFUSED);
    // Connecting to the wildcard means this host (Linux).
    if (to.is_any6())
        to.b[15] = 1;
    else if (to.is_any())
        to = IpAddr::v4(127, 0, 0, 1);
    if (to.is_v4_broadcast() && !broadcast) return Error(Errno::kEACCES);
    Route r = TRY(stack_->route(to, &local));
    TRY(autobind(to));
    // The route's source becomes the local name (as Linux does).
    if (local.is_any()) local = r.src;
    remote = to;
    rport = sa.port;
    connected = true;
    return {};
}

Result<void> UdpSocket::resolve_dest(const SockAddr* to, IpAddr* dst, uint16_t* dport) {
    if (to != nullptr && to->family != 0) {
        *dst = TRY(check_addr(*to));
        *dport = to->port;
        if (*dport == 0) return Error(Errno::kEINVAL);
        if (dst->is_any6())
            dst->b[15] = 1;
        else if (dst->is_any())
            *dst = IpAddr::v4(127, 0, 0, 1);
    } else {
        if (!connected) return Error(Errno::kEDESTADDRREQ);
        *dst = remote;
        *dport = rport;
    }
    if (dst->is_v4_broadcast() && !broadcast) return Error(Errno::kEACCES);
    if (family_ == kAfInet6 && v6only && dst->is_v4()) return Error(Errno::kENETUNREACH);
    return {};
}

Result<void> UdpSocket::transmit(const IpAddr& dst, uint16_t dport, Bytes a, Bytes b) {
    Route r = TRY(stack_->route(dst, &local));
    if (r.src.is_v4() != dst.is_v4()) return Error(Errno::kENETUNREACH);
    size_t len = a.size() + b.size();
    size_t hlen = dst.is_v4() ? 20 : 40;
    if (len > 65535 - 8 - hlen) return Error(Errno::kEMSGSIZE);
    if (!dst.is_v4() && len > 65535 - 8 - 8) return Error(Errno::kEMSGSIZE);
    TRY(autobind(dst));
    uint8_t* u = stack_->l4_start(r);
    store_be16(u, lport);
    store_be16(u + 2, dport);
    store_be16(u + 4, static_cast<uint16_t>(8 + len));
    if (!a.empty()) __builtin_memcpy(u + 8, a.data(), a.size());
    if (!b.empty()) __builtin_memcpy(u + 8 + a.size(), b.data(), b.size());
    return stack_->ip_output(r, dst, kProtoUdp, 8 + len, 6, ttl, tos);
}

Result<void> UdpSocket::flush_cork() {
    if (cork_buf_ == nullptr) return {};
    Bytes held(cork_buf_, cork_len_);
    auto r = transmit(cork_dst_, cork_port_, held, Bytes());
    mm::heap_free(cork_buf_);
    cork_buf_ = nullptr;
    cork_len_ = 0;
    return r;
}

Result<size_t> UdpSocket::send(Span<const uint8_t> data, int flags, const SockAddr* to) {
    StackEntry e(stack_);
    if (shut_wr_) return Error(Errno::kEPIPE);
    if (flags & kMsgOob) return Error(Errno::kEOPNOTSUPP);
    bool more = (flags & kMsgMore) != 0 || cork_opt_;
    if (cork_buf_ != nullptr || more) {
        // MSG_MORE / UDP_CORK (udp(7)): the pieces make one datagram, to
        // the first piece's destination, sent by the first send without
        // MSG_MORE (or by uncorking).
        if (cork_buf_ == nullptr) {
            TRY(resolve_dest(to, &cork_dst_, &cork_port_));
            cork_buf_ = static_cast<uint8_t*>(mm::heap_alloc(kMaxCork));
            if (cork_buf_ == nullptr) return Error(Errno::kENOBUFS);
            cork_len_ = 0;
        }
        if (data.size() > kMaxCork - cork_len_) return Error(Errno::kEMSGSIZE);
        if (!data.empty()) __builtin_memcpy(cork_buf_ + cork_len_, data.data(), data.size());
        cork_len_ += data.size();
        if (!more) TRY(flush_cork());
        return data.size();
    }
    IpAddr dst;
    uint16_t dport = 0;
    TRY(resolve_dest(to, &dst, &dport));
    TRY(transmit(dst, dport, data, Bytes()));
    return data.size();
}

Result<size_t> UdpSocket::recv(Span<uint8_t> buf, int flags, SockAddr* from, size_t* full_len) {
    StackEntry e(stack_);
    if (head_ == nullptr) {
        if (error_ != 0) {
            int err = take_error();
            return Error(static_cast<Errno>(err));
        }
        if (shut_rd_) return 0;
        return Error(Errno::kEAGAIN);
    }
    Datagram* d = head_;
    size_t n = d->len < buf.size() ? d->len : buf.size();
    if (n > 0) __builtin_memcpy(buf.data(), d->data, n);
    if (full_len != nullptr) *full_len = d->len;
    if (from != nullptr) *from = to_sockaddr(family_, d->from, d->port);
    if ((flags & kMsgPeek) == 0) {
        head_ = d->next;
        if (head_ == nullptr) tail_ = nullptr;
        queued_ -= d->len;
        mm::heap_free(d);
        wake();
    }
    return n;
}

Result<void> UdpSocket::shutdown(int how) {
    StackEntry e(stack_);
    if (how < kShutRd || how > kShutRdWr) return Error(Errno::kEINVAL);
    if (!connected) return Error(Errno::kENOTCONN);
    if (how != kShutWr) shut_rd_ = true;
    if (how != kShutRd) shut_wr_ = true;
    wake();
    return {};
}

void UdpSocket::close() {
    StackEntry e(stack_);
    owned_by_stack = true;
    stack_->retire(this);
}

Result<void> UdpSocket::set_option(int level, int name, Span<const uint8_t> v) {
    StackEntry e(stack_);
    if (level == kSolUdp && name == kUdpCork) {
        if (v.size() < 4) return Error(Errno::kEINVAL);
        int on;
        __builtin_memcpy(&on, v.data(), 4);
        cork_opt_ = on != 0;
        if (!cork_opt_) TRY(flush_cork());
        return {};
    }
    if (level == kSolUdp) return store_option(level, name, v);  // UDP_SEGMENT etc.
    return set_common_option(level, name, v);
}

Result<size_t> UdpSocket::get_option(int level, int name, Span<uint8_t> v) {
    if (level == kSolUdp && name == kUdpCork) {
        int on = cork_opt_;
        size_t n = v.size() < 4 ? v.size() : 4;
        __builtin_memcpy(v.data(), &on, n);
        return n;
    }
    if (level == kSolUdp) return load_option(level, name, v);
    if (level == kSolSocket && name == kSoAcceptconn) {
        int z = 0;
        size_t n = v.size() < 4 ? v.size() : 4;
        __builtin_memcpy(v.data(), &z, n);
        return n;
    }
    return get_common_option(level, name, v);
}

uint32_t UdpSocket::poll_events() {
    uint32_t ev = 0;
    if (head_ != nullptr) ev |= fs::kPollReadable;
    if (!shut_wr_) ev |= fs::kPollWritable;
    if (error_ != 0) ev |= fs::kPollErr;
    if (shut_rd_) ev |= fs::kPollReadable | fs::kPollRdHup;
    if (shut_rd_ && shut_wr_) ev |= fs::kPollHup;
    return ev;
}

}  // namespace kiln::net
