// The stack's sockets: what UDP and TCP sockets share (addresses, the
// options every socket has, readiness), and the two kinds.
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "mm/heap.h"
#include "net/ring.h"
#include "net/stack.h"

namespace kiln::net {

// Linux's option levels and names (asm-generic/socket.h, netinet/tcp.h,
// netinet/in.h).
inline constexpr int kSolSocket = 1;
inline constexpr int kSolIp = 0;
inline constexpr int kSolTcp = 6;
inline constexpr int kSolUdp = 17;
inline constexpr int kSolIpv6 = 41;

inline constexpr int kSoDebug = 1, kSoReuseaddr = 2, kSoType = 3, kSoError = 4, kSoDontroute = 5,
                     kSoBroadcast = 6, kSoSndbuf = 7, kSoRcvbuf = 8, kSoKeepalive = 9,
                     kSoOobinline = 10, kSoNoCheck = 11, kSoPriority = 12, kSoLinger = 13,
                     kSoBsdcompat = 14, kSoReuseport = 15, kSoRcvlowat = 18, kSoSndlowat = 19,
                     kSoRcvtimeo = 20, kSoSndtimeo = 21, kSoAcceptconn = 30, kSoSndbufforce = 32,
                     kSoRcvbufforce = 33, kSoProtocol = 38, kSoDomain = 39;
inline constexpr int kTcpNodelay = 1, kTcpMaxseg = 2, kTcpCork = 3, kTcpKeepidle = 4,
                     kTcpKeepintvl = 5, kTcpKeepcnt = 6, kTcpSyncnt = 7, kTcpLinger2 = 8,
                     kTcpDeferAccept = 9, kTcpWindowClamp = 10, kTcpInfo = 11, kTcpQuickack = 12,
                     kTcpCongestion = 13, kTcpUserTimeout = 18, kTcpFastopen = 23,
                     kTcpNotsentLowat = 25;
inline constexpr int kUdpCork = 1;
inline constexpr int kIpTos = 1, kIpTtl = 2, kIpMtuDiscover = 10, kIpRecverr = 11;
inline constexpr int kIpv6UnicastHops = 16, kIpv6V6only = 26, kIpv6Tclass = 67;

inline constexpr size_t kDefaultSndbuf = 256 * 1024;
inline constexpr size_t kDefaultRcvbuf = 256 * 1024;
inline constexpr size_t kMinBuf = 4608;
inline constexpr size_t kMaxBuf = 4 * 1024 * 1024;

class InetSocket : public Socket {
public:
    InetSocket(StackImpl* stack, int family, int type, uint8_t proto)
        : stack_(stack), family_(family), type_(type), proto_(proto) {
        local = family == kAfInet ? IpAddr::any4() : IpAddr();
        remote = local;
    }

    // Virtual destructors need an operator delete; sockets live on the
    // kernel heap (made with mm::make, freed with mm::destroy).
    static void operator delete(void* p) { mm::heap_free(p); }

    int family() const override { return family_; }
    int type() const override { return type_; }
    fs::PollWatchers& watchers() override { return watchers_; }
    int take_error() override {
        int e = error_;
        error_ = 0;
        return e;
    }
    Result<void> local_name(SockAddr* out) const override;
    Result<void> peer_name(SockAddr* out) const override;

    // Tells the watchers the current readiness.
    void wake() { watchers_.notify(poll_events()); }

    // The address checks bind() and connect() share: family and the
    // mapped/v6only rules. Returns the address as an IpAddr.
    Result<IpAddr> check_addr(const SockAddr& sa) const;
    // Whether a packet to `dst` may reach this socket bound to `local`.
    bool accepts_dst(const IpAddr& dst) const;
    Result<void> bind_common(const SockAddr& sa);
    // Picks a local port and address for a connection to `to` (autobind).
    Result<void> autobind(const IpAddr& to);

    // SOL_SOCKET/IP/IPV6 options every socket has; ENOPROTOOPT when not one.
    Result<void> set_common_option(int level, int name, Span<const uint8_t> v);
    Result<size_t> get_common_option(int level, int name, Span<uint8_t> v);
    // Options accepted and only remembered (their effect is not modelled).
    Result<void> store_option(int level, int name, Span<const uint8_t> v);
    Result<size_t> load_option(int level, int name, Span<uint8_t> v);

    StackImpl* stack_;
    int family_;
    int type_;
    uint8_t proto_;

    IpAddr local;
    uint16_t lport = 0;
    IpAddr remote;
    uint16_t rport = 0;
    bool bound = false;
    bool connected = false;
    // bind() chose these (Linux's SOCK_BINDADDR_LOCK/SOCK_BINDPORT_LOCK):
    // dissolving a UDP association keeps them and drops the rest.
    bool addr_locked = false;
    bool port_locked = false;

    bool reuseaddr = false;
    bool reuseport = false;
    bool v6only = false;
    bool broadcast = false;
    bool keepalive = false;
    bool linger_on = false;
    int linger_secs = 0;
    uint8_t ttl = 64;
    uint8_t tos = 0;
    size_t sndbuf = kDefaultSndbuf;
    size_t rcvbuf = kDefaultRcvbuf;
    int error_ = 0;

    InetSocket* list_next = nullptr;  // the stack's list of this protocol
    InetSocket* list_prev = nullptr;
    InetSocket* dead_next = nullptr;
    bool owned_by_stack = false;  // close() was called
    bool retired = false;

    fs::PollWatchers watchers_;

private:
    struct StoredOption {
        int level = 0, name = 0;
        uint8_t len = 0;
        uint8_t value[16] = {};
    };
    static constexpr int kStored = 8;
    StoredOption stored_[kStored];
};

// A datagram waiting in a UDP socket's receive queue.
struct Datagram {
    Datagram* next;
    IpAddr from;
    uint16_t port;
    size_t len;
    uint8_t data[];
};

class UdpSocket final : public InetSocket {
public:
    UdpSocket(StackImpl* s, int family) : InetSocket(s, family, kSockDgram, kProtoUdp) {}
    ~UdpSocket() override;

    Result<void> bind(const SockAddr& local) override;
    Result<void> listen(int backlog) override;
    Result<Socket*> accept(SockAddr* peer) override;
    Result<void> connect(const SockAddr& remote) override;
    Result<size_t> send(Span<const uint8_t> data, int flags, const SockAddr* to) override;
    Result<size_t> recv(Span<uint8_t> buf, int flags, SockAddr* from, size_t* full_len) override;
    Result<void> shutdown(int how) override;
    void close() override;
    Result<void> set_option(int level, int name, Span<const uint8_t> value) override;
    Result<size_t> get_option(int level, int name, Span<uint8_t> value) override;
    uint32_t poll_events() override;
    size_t readable_bytes() const override { return head_ ? head_->len : 0; }
    size_t unsent_bytes() const override { return 0; }

    void input(const IpPacket& p, uint16_t sport, Bytes data);
    void icmp_error(int err);

private:
    Result<void> resolve_dest(const SockAddr* to, IpAddr* dst, uint16_t* dport);
    Result<void> transmit(const IpAddr& dst, uint16_t dport, Bytes a, Bytes b);
    Result<void> flush_cork();
    static constexpr size_t kMaxCork = 65507;
    uint8_t* cork_buf_ = nullptr;  // MSG_MORE/UDP_CORK pieces of one datagram
    size_t cork_len_ = 0;
    IpAddr cork_dst_;
    uint16_t cork_port_ = 0;
    bool cork_opt_ = false;

    Datagram* head_ = nullptr;
    Datagram* tail_ = nullptr;
    size_t queued_ = 0;
    bool shut_rd_ = false;
    bool shut_wr_ = false;
};

enum class TcpState : uint8_t {
    kClosed,
    kListen,
    kSynSent,
    kSynReceived,
    kEstablished,
    kFinWait1,
    kFinWait2,
    kCloseWait,
    kClosing,
    kLastAck,
    kTimeWait,
};

// A parsed TCP segment.
struct Segment {
    uint32_t seq = 0;
    uint32_t ack = 0;
    uint8_t flags = 0;
    uint32_t wnd = 0;      // unscaled
    uint16_t mss = 0;      // 0: absent
    int wscale = -1;       // -1: absent
    bool sack_ok = false;  // SACK-permitted (RFC 2018)
    int nsack = 0;         // SACK blocks (RFC 2018 §3), as sent
    uint32_t sack[4][2] = {};
    Bytes data;
    uint32_t len() const;  // data plus SYN and FIN
};

inline constexpr uint8_t kFin = 0x01, kSyn = 0x02, kRst = 0x04, kPsh = 0x08, kAck = 0x10,
                         kUrg = 0x20;

inline bool seq_lt(uint32_t a, uint32_t b) {
    return static_cast<int32_t>(a - b) < 0;
}
inline bool seq_le(uint32_t a, uint32_t b) {
    return static_cast<int32_t>(a - b) <= 0;
}
inline bool seq_gt(uint32_t a, uint32_t b) {
    return seq_lt(b, a);
}
inline bool seq_ge(uint32_t a, uint32_t b) {
    return seq_le(b, a);
}

class TcpSocket final : public InetSocket {
public:
    TcpSocket(StackImpl* s, int family) : InetSocket(s, family, kSockStream, kProtoTcp) {}
    ~TcpSocket() override;

    Result<void> bind(const SockAddr& local) override;
    Result<void> listen(int backlog) override;
    Result<Socket*> accept(SockAddr* peer) override;
    Result<void> connect(const SockAddr& remote) override;
    Result<size_t> send(Span<const uint8_t> data, int flags, const SockAddr* to) override;
    Result<size_t> recv(Span<uint8_t> buf, int flags, SockAddr* from, size_t* full_len) override;
    Result<void> shutdown(int how) override;
    void close() override;
    Result<void> set_option(int level, int name, Span<const uint8_t> value) override;
    Result<size_t> get_option(int level, int name, Span<uint8_t> value) override;
    uint32_t poll_events() override;
    size_t readable_bytes() const override { return rcvq.size(); }
    size_t unsent_bytes() const override { return sndq.size(); }

    // tcp_input.cpp
    void segment_arrives(const IpPacket& p, const Segment& seg);
    void listen_input(const IpPacket& p, const Segment& seg);
    // tcp_output.cpp
    void output();                         // sends what the windows allow
    void send_ack();                       // a bare ACK now
    void send_reset();                     // RST for abort
    void send_syn();                       // SYN or SYN-ACK per state
    void retransmit_first();               // the segment at SND.UNA
    void sack_update(const Segment& seg);  // the scoreboard, from a segment
    bool retransmit_next_hole();           // the next un-SACKed gap in recovery
    void on_timers(uint64_t now);
    uint64_t deadline() const;
    void start_rtx_timer();
    // Sets a timer, keeping the stack's earliest-deadline bound.
    void arm(uint64_t& timer, uint64_t at) {
        timer = at;
        stack_->note_tcp_deadline(at);
    }
    void update_rtt(uint64_t sample_ns);
    // Ends the connection: error to report (0 for a clean end), state CLOSED.
    void terminate(int err);
    void enter_time_wait();
    void set_state(TcpState s);
    uint32_t rcv_window() const;  // what we can take now (unscaled)
    void setup_buffers();
    void maybe_window_update();
    void close_children_and_stop();
    void ack_received_data(bool force_now, size_t bytes);
    // ICMP says the path carries IP packets of at most mtu bytes; seq is
    // the quoted segment's (RFC 5927 §4.1: believed only if in flight).
    void path_mtu(uint16_t mtu, uint32_t seq);

    TcpState state = TcpState::kClosed;

    // Send sequence space (RFC 9293 §3.3.1).
    uint32_t iss = 0, snd_una = 0, snd_nxt = 0, snd_max = 0;
    uint32_t snd_wnd = 0, snd_wl1 = 0, snd_wl2 = 0, max_sndwnd = 0;
    uint8_t snd_wscale = 0, rcv_wscale = 0;
    bool wscale_ok = false;
    uint16_t mss = 536;    // what we send per segment
    uint32_t tso_seg = 0;  // longest segment the device cuts for us; 0: mss
    uint16_t peer_mss = 536;
    Ring sndq;                // bytes from SND.UNA on
    bool fin_queued = false;  // shutdown(WR)/close: FIN after the last byte
    uint32_t snd_sml = 0;     // end of the last small segment sent (Nagle)
    bool tx_stalled = false;  // the device refused a segment: retry soon

    // Receive sequence space.
    uint32_t irs = 0, rcv_nxt = 0, rcv_adv = 0;
    Ring rcvq;
    bool fin_received = false;
    // Out-of-order byte ranges written ahead in rcvq, sorted, disjoint.
    static constexpr int kOooRanges = 16;
    struct Range {
        uint32_t start, end;
    };
    Range ooo[kOooRanges];
    int nooo = 0;
    int ooo_latest = 0;    // the run holding the latest out-of-order segment
    bool sack_ok = false;  // both sides sent SACK-permitted: blocks both ways
    // What the peer reported holding beyond SND.UNA (sorted, disjoint), and
    // how far this recovery has resent the holes between.
    static constexpr int kSacked = 8;
    Range sacked[kSacked];
    int nsacked = 0;
    uint32_t rexmit_hi = 0;
    bool ooo_fin = false;
    uint32_t ooo_fin_seq = 0;

    // Congestion control (RFC 5681 + NewReno RFC 6582).
    uint32_t cwnd = 0, ssthresh = 0xffffffffu, recover = 0;
    int dupacks = 0;
    bool in_recovery = false;

    // RTT estimation (RFC 6298), in ns.
    uint64_t srtt = 0, rttvar = 0, rto = kSec;
    bool rtt_valid = false;
    bool rtt_timing = false;
    uint32_t rtt_seq = 0;
    uint64_t rtt_start = 0;
    int rtx_count = 0;  // consecutive RTO expiries
    uint32_t total_retrans = 0;

    // Timers (absolute ns; kNever when off).
    uint64_t t_rtx = kNever, t_delack = kNever, t_persist = kNever, t_keep = kNever,
             t_timewait = kNever;
    uint64_t t_cork = kNever;  // a corked partial segment goes at the latest then
    int persist_shift = 0;
    int keep_probes = 0;
    uint64_t last_rx = 0;
    int ack_pending = 0;  // segments received and not yet acknowledged
    size_t ack_pending_bytes = 0;
    uint32_t tx_acks = 0;  // segments sent carrying an ACK (to tell if one went)

    // Options.
    bool nodelay = false;
    bool cork = false;
    int keepidle = 7200, keepintvl = 75, keepcnt = 9;
    int user_mss = 0;
    int syn_retries = 6;
    int user_timeout_ms = 0;
    bool shut_rd = false;
    bool shut_wr = false;

    // Listening: SYN queue (handshakes under way) and accept queue.
    TcpSocket* listener = nullptr;
    TcpSocket* q_next = nullptr;
    bool in_accept_queue = false;
    TcpSocket* syn_q = nullptr;
    TcpSocket* acc_head = nullptr;
    TcpSocket* acc_tail = nullptr;
    int backlog = 0, nsyn = 0, nacc = 0;

    TcpSocket* hash_next = nullptr;
    bool hashed = false;
    bool connect_reported = false;  // EINPROGRESS then one EALREADY/EISCONN
};

// Takes an embryonic connection off its listener's SYN queue (tcp_input.cpp).
void tcp_unlink_syn(TcpSocket* l, TcpSocket* c);

}  // namespace kiln::net
