// The stack's insides, shared by its files: interfaces, the neighbour cache
// (ARP and IPv6 neighbour discovery share it: both map an IP address on a
// link to a MAC), routes, the transmit path and the socket tables. Private
// to kernel/net; users see api.h.
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "kiln/byteorder.h"
#include "kiln/checksum.h"
#include "mm/heap.h"
#include "net/addr.h"
#include "net/api.h"

namespace kiln::net {

inline constexpr uint8_t kProtoIcmp = 1;
inline constexpr uint8_t kProtoTcp = 6;
inline constexpr uint8_t kProtoUdp = 17;
inline constexpr uint8_t kProtoIcmp6 = 58;

inline constexpr uint16_t kEtherIpv4 = 0x0800;
inline constexpr uint16_t kEtherArp = 0x0806;
inline constexpr uint16_t kEtherIpv6 = 0x86dd;

inline constexpr size_t kEthHeader = 14;
inline constexpr uint16_t kLoopbackMtu = 65535;
// The transmit scratch buffer: the largest frame the stack builds.
inline constexpr size_t kTxBufSize = kLoopbackMtu + 64;

inline constexpr uint64_t kMs = 1000000;
inline constexpr uint64_t kSec = 1000 * kMs;
inline constexpr uint64_t kNever = ~uint64_t{0};

class StackImpl;
class InetSocket;
class UdpSocket;
class TcpSocket;
struct Dhcp;

}  // namespace kiln::net

namespace kiln::net {

class Interface {
public:
    Device* dev = nullptr;  // nullptr: the loopback interface
    int index = 0;
    MacAddr mac;
    uint16_t mtu = 1500;
    bool csum_offload = false;
    uint32_t tso_max = 0;  // largest IP packet the device segments; 0: none

    bool has_v4 = false;
    IpAddr v4_addr;
    uint8_t v4_prefix = 0;
    IpAddr v4_gateway;  // any: none
    uint8_t dns[4] = {};

    IpAddr v6_ll;  // fe80::/64 from the MAC (EUI-64)
    bool has_v6_global = false;
    IpAddr v6_global;
    uint8_t v6_prefix = 0;
    bool has_v6_router = false;
    IpAddr v6_router;
    bool slaac = false;
    int rs_sent = 0;
    uint64_t rs_deadline = kNever;
    // When what SLAAC learned lapses (RFC 4861 §6.3.4 router lifetime,
    // RFC 4862 §5.5.3 valid lifetime); kNever for static configuration.
    uint64_t v6_router_expires = kNever;
    uint64_t v6_global_expires = kNever;

    Dhcp* dhcp = nullptr;
    Interface* next = nullptr;

    bool is_loopback() const { return dev == nullptr; }
};

// Where a packet goes: out of iface, from src, to the link neighbour
// next_hop (the destination itself on-link, else the gateway).
struct Route {
    Interface* iface = nullptr;
    IpAddr src;
    IpAddr next_hop;
    uint16_t mtu = 1500;
};

// A received IP packet, its L4 payload bounded by the IP length.
struct IpPacket {
    Interface* iface = nullptr;
    IpAddr src;
    IpAddr dst;
    uint8_t proto = 0;
    uint8_t ttl = 0;
    bool v4 = true;
    bool csum_valid = false;
    bool to_broadcast = false;  // link broadcast/multicast: no ICMP errors
    Bytes ip;                   // the whole IP packet (for ICMP errors)
    Bytes payload;
};

// How ip_output fills the L4 checksum: at csum_off in the L4 header, over
// the pseudo-header and the L4 bytes (TCP, UDP, ICMPv6), or not at all
// (the caller did, as ICMPv4 does).
inline constexpr int kNoPseudoCsum = -1;

// A frame waiting for its next hop's MAC: the whole Ethernet frame, its
// destination filled in once resolved.
struct PendingFrame {
    PendingFrame* next;
    size_t len;
    int csum_start;
    int csum_off;
    uint16_t gso_size;
    uint8_t data[];
};

struct Neighbour {
    Interface* iface = nullptr;  // nullptr: free slot
    IpAddr ip;
    MacAddr mac;
    bool resolved = false;
    uint64_t expires = 0;             // resolved: when it goes stale; else next probe
    int probes = 0;                   // requests sent while resolving
    PendingFrame* pending = nullptr;  // frames waiting for the MAC (bounded)
    PendingFrame* pending_tail = nullptr;
    int npending = 0;
};

struct Fragments;  // one IPv4 datagram being reassembled

// Ephemeral ports (Linux's default ip_local_port_range).
inline constexpr uint16_t kEphemeralLow = 32768;
inline constexpr uint16_t kEphemeralHigh = 60999;

inline constexpr int kTcpHashBuckets = 512;

class StackImpl final : public Stack {
public:
    StackImpl();
    ~StackImpl() override;
    static void operator delete(void* p) { mm::heap_free(p); }  // see InetSocket
    bool init();

    // api.h
    Result<Interface*> attach(Device* dev) override;
    void receive(Interface* iface, Span<const uint8_t> frame, bool csum_valid,
                 uint64_t now_ns) override;
    Result<void> configure_ipv4(Interface* iface, const Ipv4Config& cfg) override;
    Result<void> configure_ipv6(Interface* iface, const Ipv6Config& cfg) override;
    Result<void> start_autoconfig(Interface* iface, uint64_t now_ns) override;
    bool ipv4_config(Interface* iface, Ipv4Config* out) const override;
    Result<Socket*> socket(int family, int type, int protocol) override;
    void poll(uint64_t now_ns) override;
    uint64_t next_deadline() const override;
    void set_now(uint64_t now_ns) override { now_ = now_ns; }
    void seed_random(Span<const uint8_t> seed) override;
    bool output_pending() const override;

    uint64_t now() const { return now_; }
    uint64_t random64();
    // RFC 6528's keyed ISN: a hash of the connection's four-tuple plus a
    // clock ticking every 4 us.
    uint32_t isn(const IpAddr& la, uint16_t lp, const IpAddr& ra, uint16_t rp);

    // Entering and leaving the stack from outside: loopback frames queued
    // while inside are delivered and closed sockets freed on the way out.
    void enter() { depth_++; }
    void leave();

    // Routing (ip.cpp).
    Result<Route> route(const IpAddr& dst, const IpAddr* src_hint) const;
    bool is_local(const IpAddr& a, Interface** iface = nullptr) const;
    // The L4 header's place in the transmit buffer for a packet on r.
    uint8_t* l4_start(const Route& r);
    // Sends the L4 bytes written at l4_start(r): fills the IP (and link)
    // header and the checksum, resolves the next hop.
    // gso_size: a TCP segment longer than the MTU for the device to cut
    // (Interface::tso_max).
    Result<void> ip_output(const Route& r, const IpAddr& dst, uint8_t proto, size_t l4_len,
                           int csum_off, uint8_t ttl = 64, uint8_t tclass = 0,
                           uint16_t gso_size = 0);
    // The L4 checksum of a received packet checks out (or the device said so).
    bool l4_csum_ok(const IpPacket& p) const;
    static uint64_t pseudo_sum(const IpAddr& src, const IpAddr& dst, uint8_t proto, size_t len);

    // Link layer (link.cpp).
    // frame has the Ethernet header's 14 bytes at its start, to be filled.
    Result<void> link_output(Interface* ifc, const IpAddr& next_hop, uint16_t ethertype,
                             uint8_t* frame, size_t len, int csum_start, int csum_off,
                             uint16_t gso_size = 0);
    Result<void> device_send(Interface* ifc, const uint8_t* frame, size_t len, int csum_start,
                             int csum_off, uint16_t gso_size = 0);
    void arp_input(Interface* ifc, Bytes pkt);
    Neighbour* neighbour_find(Interface* ifc, const IpAddr& ip);
    void neighbour_update(Interface* ifc, const IpAddr& ip, const MacAddr& mac, bool create);
    void neighbour_timers();
    void send_arp(Interface* ifc, uint16_t op, const MacAddr& tha, const IpAddr& tpa,
                  const uint8_t* dst_mac);

    // IPv4 (ip.cpp), ICMP (icmp.cpp).
    void ipv4_input(Interface* ifc, Bytes pkt, bool csum_valid, bool link_bcast);
    void deliver(IpPacket& p);
    void icmp4_input(IpPacket& p);
    void icmp_error(const IpPacket& p, uint8_t type, uint8_t code);
    bool icmp_error_allowed();
    uint64_t icmp_tokens_ = 50;
    uint64_t icmp_tokens_at_ = 0;
    // One fragment (p.payload, at byte `offset`); delivers the datagram
    // once complete.
    void fragment_input(IpPacket& p, uint32_t id, uint32_t offset, bool more);
    void fragments_expire();
    uint64_t fragments_deadline() const;

    // IPv6 (ipv6.cpp).
    void ipv6_input(Interface* ifc, Bytes pkt, bool csum_valid, bool link_mcast);
    void icmp6_input(IpPacket& p);
    void send_ns(Interface* ifc, const IpAddr& target, bool unicast);
    void send_rs(Interface* ifc);
    void ipv6_timers();

    // Transport demultiplexing.
    void udp_input(IpPacket& p);
    void tcp_input(IpPacket& p);
    void tcp_timers();
    uint64_t tcp_deadline() const { return tcp_next_; }
    // A TCP timer was set for `at`: the bound below moves earlier if needed.
    void note_tcp_deadline(uint64_t at) {
        if (at < tcp_next_) tcp_next_ = at;
    }

    // Sockets.
    bool port_in_use(uint8_t proto, const IpAddr& addr, uint16_t port, const InetSocket* self,
                     bool reuse) const;
    Result<uint16_t> ephemeral_port(uint8_t proto, const IpAddr& addr);
    void tcp_hash_add(TcpSocket* s);
    void tcp_hash_remove(TcpSocket* s);
    TcpSocket* tcp_lookup(const IpAddr& la, uint16_t lp, const IpAddr& ra, uint16_t rp);
    TcpSocket* tcp_listener(const IpAddr& la, uint16_t lp, bool v4);
    void tcp_send_reset(const IpPacket& p, uint32_t seq, uint32_t ack, bool with_ack);
    // A socket the stack owns is done: freed on the way out of the stack.
    void retire(InetSocket* s);

    // DHCPv4 (dhcp.cpp).
    bool dhcp_input(IpPacket& p);  // true when it was DHCP for us
    void dhcp_timers();
    uint64_t dhcp_deadline() const;
    void dhcp_free(Interface* ifc);

    Interface* loopback() { return &loopback_; }
    Interface* first_device_iface() const;

    int time_wait_count = 0;         // TCP sockets in TIME-WAIT
    InetSocket* udp_list = nullptr;  // every UDP socket
    InetSocket* tcp_list = nullptr;  // every TCP socket (listeners, connections, children)
    TcpSocket* tcp_hash[kTcpHashBuckets] = {};

    // Counters the tests read.
    struct Stats {
        uint64_t rx_frames, rx_dropped, tx_frames, tx_dropped;
        uint64_t tcp_retransmits, tcp_rst_sent, bad_csum;
    } stats = {};

private:
    void deliver_loopback();
    void loopback_enqueue(const uint8_t* pkt, size_t len);
    void reap();

    uint64_t now_ = 0;
    int depth_ = 0;
    uint64_t rng_[4] = {};
    uint64_t isn_key_[2] = {};

    Interface loopback_;
    Interface* ifaces_ = nullptr;  // devices, in attach order
    int next_index_ = 2;

    uint8_t* txbuf_ = nullptr;

    struct LoopFrame;
    LoopFrame* loop_head_ = nullptr;
    LoopFrame* loop_tail_ = nullptr;
    size_t loop_count_ = 0;

    InetSocket* dead_ = nullptr;  // retired sockets to free
    // No TCP timer fires before this (a lower bound: timers cancelled since
    // leave it early, which costs one scan that finds nothing), so poll()
    // and next_deadline() need not visit every connection.
    uint64_t tcp_next_ = kNever;

public:
    static constexpr int kNeighbours = 64;
    Neighbour neigh[kNeighbours];
    static constexpr int kMaxFragments = 4;
    Fragments* frags[kMaxFragments] = {};
    uint16_t ip_id = 1;
    uint16_t next_ephemeral = kEphemeralLow;
};

// RAII for a call from outside into the stack.
class StackEntry {
public:
    explicit StackEntry(StackImpl* s) : s_(s) { s_->enter(); }
    ~StackEntry() { s_->leave(); }

private:
    StackImpl* s_;
};

// Tells the socket whose packet (proto, src:sport -> dst:dport) drew an
// ICMP or ICMPv6 error (icmp.cpp).
void icmp_report_error(StackImpl* s, uint8_t proto, const IpAddr& src, uint16_t sport,
                       const IpAddr& dst, uint16_t dport, int err);

// Starts (or restarts) the DHCPv4 client on ifc (dhcp.cpp).
Result<void> dhcp_start(StackImpl* s, Interface* ifc);

// Logging: klog in the kernel, silent on the host.
void net_log(const char* fmt, ...) __attribute__((format(printf, 1, 2)));

}  // namespace kiln::net
