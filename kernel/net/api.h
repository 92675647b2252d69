// The contract between the TCP/IP stack (kernel/net, pure C++: built into
// the kernel and into host unit tests) and its users: the socket system
// calls (kernel/linux/net*.cpp), the NIC drivers (kernel/dev/virtio_net)
// and the tests, which wire two Stacks back to back.
//
// The stack never blocks and never touches user memory: every call returns
// at once (EAGAIN when it would have to wait) and copies from or to kernel
// buffers. Whoever blocks (a system call) waits on the socket's PollWatchers
// and asks again. The stack keeps no clock of its own: callers pass the
// monotonic time in nanoseconds, and ask next_deadline() when to come back.
// It is single-threaded: the kernel calls it with interrupts masked (or from
// one deferred-work context), the tests from one thread.
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "fs/poll.h"
#include "kiln/result.h"
#include "kiln/span.h"

namespace kiln::net {

inline constexpr uint16_t kAfUnix = 1;
inline constexpr uint16_t kAfInet = 2;
inline constexpr uint16_t kAfInet6 = 10;

inline constexpr int kSockStream = 1;
inline constexpr int kSockDgram = 2;

// An IPv4 or IPv6 endpoint in host byte order for the port; addresses are
// kept as bytes in network order. An IPv4 address lives in addr[0..3] when
// family is kAfInet; an IPv4-mapped IPv6 address (::ffff:a.b.c.d) is an
// IPv6 endpoint.
struct SockAddr {
    uint16_t family = 0;  // kAfInet or kAfInet6
    uint16_t port = 0;
    uint8_t addr[16] = {};
    uint32_t flowinfo = 0;
    uint32_t scope_id = 0;
};

struct MacAddr {
    uint8_t b[6] = {};
};

// What the socket layer passes through to send/recv (MSG_* values of
// Linux's ABI).
inline constexpr int kMsgOob = 0x1;
inline constexpr int kMsgPeek = 0x2;
inline constexpr int kMsgDontWait = 0x40;
inline constexpr int kMsgTrunc = 0x20;
inline constexpr int kMsgWaitAll = 0x100;
inline constexpr int kMsgNoSignal = 0x4000;
inline constexpr int kMsgMore = 0x8000;

// shutdown(2)'s how.
inline constexpr int kShutRd = 0;
inline constexpr int kShutWr = 1;
inline constexpr int kShutRdWr = 2;

// One AF_INET/AF_INET6 socket of a Stack. Readiness uses fs/poll.h's bits
// (IN/OUT/ERR/HUP/RDHUP); every change of poll_events() is told to
// watchers() with the new events.
class Socket {
public:
    virtual ~Socket() = default;

    virtual int family() const = 0;
    virtual int type() const = 0;  // kSockStream or kSockDgram

    // Port 0 picks an ephemeral port. EADDRINUSE, EADDRNOTAVAIL, EINVAL
    // (already bound), EAFNOSUPPORT as Linux returns them.
    virtual Result<void> bind(const SockAddr& local) = 0;
    virtual Result<void> listen(int backlog) = 0;
    // A new connected socket (owned by the caller, who close()s it) and its
    // peer; EAGAIN when no connection is complete; EINVAL when not listening.
    virtual Result<Socket*> accept(SockAddr* peer) = 0;
    // TCP: starts the handshake and returns EINPROGRESS; completion makes
    // the socket writable, and error() then tells how it ended. A second
    // call reports EALREADY / EISCONN / the error, as Linux does. UDP: sets
    // the default destination (family kAfUnspec=0 dissolves it).
    virtual Result<void> connect(const SockAddr& remote) = 0;

    // Copies up to data.size() bytes in; returns how many were taken
    // (EAGAIN when none could be; EPIPE after shutdown(WR) or a reset
    // peer — the caller raises SIGPIPE unless kMsgNoSignal). `to` is for
    // unconnected datagram sockets (EDESTADDRREQ when needed and absent).
    virtual Result<size_t> send(Span<const uint8_t> data, int flags, const SockAddr* to) = 0;
    // Copies up to buf.size() bytes out; 0 at end of stream; EAGAIN when
    // nothing is there yet. Datagrams: one per call, the rest dropped, and
    // *full_len set to the datagram's length (for MSG_TRUNC). `from` is
    // filled when not null.
    virtual Result<size_t> recv(Span<uint8_t> buf, int flags, SockAddr* from, size_t* full_len) = 0;
    virtual Result<void> shutdown(int how) = 0;
    // The caller's last reference is gone: the socket closes gracefully
    // (FIN, TIME_WAIT; RST with SO_LINGER 0 or unread data) and the stack
    // frees it when done. The pointer must not be used afterwards.
    virtual void close() = 0;

    virtual Result<void> local_name(SockAddr* out) const = 0;
    virtual Result<void> peer_name(SockAddr* out) const = 0;  // ENOTCONN

    // SOL_SOCKET / IPPROTO_TCP / IPPROTO_IP / IPPROTO_IPV6 options, with
    // Linux's level/name numbers and value layouts. Unknown options:
    // ENOPROTOOPT.
    virtual Result<void> set_option(int level, int name, Span<const uint8_t> value) = 0;
    virtual Result<size_t> get_option(int level, int name, Span<uint8_t> value) = 0;

    virtual uint32_t poll_events() = 0;
    virtual fs::PollWatchers& watchers() = 0;
    // Bytes readable now (FIONREAD/SIOCINQ), and unsent (SIOCOUTQ).
    virtual size_t readable_bytes() const = 0;
    virtual size_t unsent_bytes() const = 0;
    // The pending error (SO_ERROR), cleared by reading it.
    virtual int take_error() = 0;
};

// A network device the stack sends through. Frames are whole Ethernet
// frames without FCS. With checksum offload the stack leaves the L4
// checksum to the device: csum_start/csum_offset as in virtio-net's header
// (the partial checksum of the pseudo-header already in place).
struct TxFrame {
    Span<const uint8_t> data;
    bool needs_csum = false;
    uint16_t csum_start = 0;
    uint16_t csum_offset = 0;
    // TCP segmentation offload (only when the device's tso_max() > 0):
    // gso_size != 0 makes the frame one TCP segment longer than the MTU,
    // for the device to cut into gso_size-byte segments (virtio-net
    // GSO_TCPV4 or GSO_TCPV6 by gso_v6, hdr_len = Ethernet + IP + TCP
    // header bytes). needs_csum is always set with it.
    uint16_t gso_size = 0;
    bool gso_v6 = false;
    uint16_t hdr_len = 0;
};

class Device {
public:
    virtual ~Device() = default;
    virtual MacAddr mac() const = 0;
    virtual uint16_t mtu() const = 0;  // IP MTU (1500 for Ethernet)
    virtual bool tx_csum_offload() const = 0;
    // The largest IP packet the device segments for TCP (TxFrame::gso_size);
    // 0 (the default) when it does not. Only used with tx_csum_offload().
    virtual uint32_t tso_max() const { return 0; }
    // Queues a frame for sending (copied before returning); EAGAIN when the
    // device's queue is full (the stack drops or retries later, as a full
    // NIC queue would).
    virtual Result<void> transmit(const TxFrame& frame) = 0;
};

struct Ipv4Config {
    uint8_t addr[4] = {};
    uint8_t prefix_len = 0;
    uint8_t gateway[4] = {};  // 0.0.0.0: none
    uint8_t dns[4] = {};
};

struct Ipv6Config {
    uint8_t addr[16] = {};
    uint8_t prefix_len = 0;
    uint8_t gateway[16] = {};
};

class Interface;  // defined by the stack

// One network stack: its interfaces (a loopback one always exists, with
// 127.0.0.1/8 and ::1), routes and sockets.
class Stack {
public:
    static Stack* create();  // nullptr when out of memory
    virtual ~Stack() = default;

    // Adds a device; the stack keeps the pointer (the device outlives it).
    virtual Result<Interface*> attach(Device* dev) = 0;
    // A frame arrived on iface (copied before returning). csum_valid: the
    // device verified the L4 checksum (virtio-net DATA_VALID).
    virtual void receive(Interface* iface, Span<const uint8_t> frame, bool csum_valid,
                         uint64_t now_ns) = 0;
    virtual Result<void> configure_ipv4(Interface* iface, const Ipv4Config& cfg) = 0;
    virtual Result<void> configure_ipv6(Interface* iface, const Ipv6Config& cfg) = 0;
    // Starts DHCPv4 (and SLAAC for IPv6) on iface; ipv4_config() reports the
    // lease once bound.
    virtual Result<void> start_autoconfig(Interface* iface, uint64_t now_ns) = 0;
    virtual bool ipv4_config(Interface* iface, Ipv4Config* out) const = 0;

    // family kAfInet/kAfInet6, type kSockStream/kSockDgram (flags masked
    // off), protocol 0 or the matching IPPROTO_*. EAFNOSUPPORT,
    // EPROTONOSUPPORT, ENOBUFS.
    virtual Result<Socket*> socket(int family, int type, int protocol) = 0;

    // Runs timers due at now_ns (retransmission, delayed ACK, keepalive,
    // TIME_WAIT, ARP/ND expiry, DHCP) and sends what is queued.
    virtual void poll(uint64_t now_ns) = 0;
    // The earliest time poll() has work; ~0 when none.
    virtual uint64_t next_deadline() const = 0;
    // The time the socket layer passes to calls that send (so a send can
    // start timers): set before each call into a Socket.
    virtual void set_now(uint64_t now_ns) = 0;
    // Entropy for initial sequence numbers (RFC 6528's secret key),
    // ephemeral ports and DHCP transaction ids; the kernel feeds
    // getrandom's source once after create().
    virtual void seed_random(Span<const uint8_t> seed) = 0;
    // Whether a TCP connection still has data or a FIN that the peer has
    // not acknowledged (what a program wrote just before it ended): the
    // kernel keeps the VM up a little while for it.
    virtual bool output_pending() const = 0;
};

}  // namespace kiln::net
