// The stack object: interfaces, configuration, socket creation, the clock
// and timers, loopback delivery and the freeing of finished sockets.
#include "net/stack.h"

#include <stdarg.h>

#include "mm/heap.h"
#include "mm/new.h"
#include "net/socket.h"

#ifdef KILN_KERNEL
#include "dev/random.h"
#include "klog.h"
#endif

namespace kiln::net {

void net_log(const char* fmt, ...) {
#ifdef KILN_KERNEL
    va_list ap;
    va_start(ap, fmt);
    klog::vprint(klog::Level::kInfo, fmt, ap);
    va_end(ap);
#else
    (void)fmt;
#endif
}

bool same_prefix(const IpAddr& a, const IpAddr& b, unsigned bits) {
    if (bits > 128) bits = 128;
    unsigned full = bits / 8;
    if (__builtin_memcmp(a.b, b.b, full) != 0) return false;
    unsigned rest = bits % 8;
    if (rest == 0) return true;
    uint8_t mask = static_cast<uint8_t>(0xff << (8 - rest));
    return (a.b[full] & mask) == (b.b[full] & mask);
}

IpAddr from_sockaddr(const SockAddr& sa) {
    if (sa.family == kAfInet) return IpAddr::v4(sa.addr);
    return IpAddr::v6(sa.addr);
}

SockAddr to_sockaddr(int family, const IpAddr& a, uint16_t port) {
    SockAddr sa;
    sa.family = static_cast<uint16_t>(family);
    sa.port = port;
    if (family == kAfInet)
        __builtin_memcpy(sa.addr, a.v4_bytes(), 4);
    else
        __builtin_memcpy(sa.addr, a.b, 16);
    return sa;
}

struct StackImpl::LoopFrame {
    LoopFrame* next;
    size_t len;
    uint8_t data[];
};

StackImpl::StackImpl() {
    loopback_.index = 1;
    loopback_.mtu = kLoopbackMtu;
    loopback_.has_v4 = true;
    loopback_.v4_addr = IpAddr::v4(127, 0, 0, 1);
    loopback_.v4_prefix = 8;
    loopback_.v4_gateway = IpAddr::any4();
    loopback_.v6_global.b[15] = 1;
    loopback_.has_v6_global = true;
    loopback_.v6_prefix = 128;
    // A fixed seed until the kernel feeds a real one.
    rng_[0] = 0x9e3779b97f4a7c15ull;
    rng_[1] = 0xbf58476d1ce4e5b9ull;
    rng_[2] = 0x94d049bb133111ebull;
    rng_[3] = 0x2545f4914f6cdd1dull;
    isn_key_[0] = 0x736f6d6570736575ull;
    isn_key_[1] = 0x646f72616e646f6dull;
}

bool StackImpl::init() {
    txbuf_ = static_cast<uint8_t*>(mm::heap_alloc(kTxBufSize, 64));
    return txbuf_ != nullptr;
}

StackImpl::~StackImpl() {
    // Sockets still open belong to their users in principle; a Stack is only
    // destroyed by tests, which close theirs first. Free what is left.
    while (tcp_list != nullptr) {
        InetSocket* s = tcp_list;
        tcp_list = s->list_next;
        mm::destroy(static_cast<TcpSocket*>(s));
    }
    while (udp_list != nullptr) {
        InetSocket* s = udp_list;
        udp_list = s->list_next;
        mm::destroy(static_cast<UdpSocket*>(s));
    }
    reap();
    while (loop_head_ != nullptr) {
        LoopFrame* f = loop_head_;
        loop_head_ = f->next;
        mm::heap_free(f);
    }
    for (Neighbour& n : neigh) {
        while (n.pending != nullptr) {
            PendingFrame* f = n.pending;
            n.pending = f->next;
            mm::heap_free(f);
        }
    }
    for (Fragments*& f : frags) {
        if (f != nullptr) mm::heap_free(f);
        f = nullptr;
    }
    while (ifaces_ != nullptr) {
        Interface* i = ifaces_;
        ifaces_ = i->next;
        dhcp_free(i);
        mm::destroy(i);
    }
    if (txbuf_ != nullptr) mm::heap_free(txbuf_);
}

Stack* Stack::create() {
    auto* s = mm::make<StackImpl>();
    if (s == nullptr) return nullptr;
    if (!s->init()) {
        mm::destroy(s);
        return nullptr;
    }
#ifdef KILN_KERNEL
    // The kernel's generator keys ISNs (RFC 6528), ports and DHCP ids, so
    // no two boots share them; host tests stay deterministic.
    uint8_t seed[48];
    dev::random_bytes(seed, sizeof seed);
    s->seed_random(Span<const uint8_t>(seed, sizeof seed));
#endif
    return s;
}

void StackImpl::seed_random(Span<const uint8_t> seed) {
    // Mixed into the generator state and the ISN key: any length works.
    for (size_t i = 0; i < seed.size(); ++i) {
        uint64_t* w = i % 48 < 32 ? &rng_[(i % 32) / 8] : &isn_key_[(i % 48 - 32) / 8];
        *w ^= uint64_t{seed[i]} << (8 * (i % 8));
        *w *= 0x100000001b3ull;
    }
    for (int i = 0; i < 8; ++i) random64();
    next_ephemeral =
        static_cast<uint16_t>(kEphemeralLow + random64() % (kEphemeralHigh - kEphemeralLow + 1));
}

uint64_t StackImpl::random64() {
    // xoshiro256** (not cryptographic; ISNs use the keyed hash below).
    auto rotl = [](uint64_t x, int k) { return (x << k) | (x >> (64 - k)); };
    uint64_t result = rotl(rng_[1] * 5, 7) * 9;
    uint64_t t = rng_[1] << 17;
    rng_[2] ^= rng_[0];
    rng_[3] ^= rng_[1];
    rng_[1] ^= rng_[2];
    rng_[0] ^= rng_[3];
    rng_[2] ^= t;
    rng_[3] = rotl(rng_[3], 45);
    return result;
}

namespace {

// SipHash-2-4 over a few 64-bit words: the keyed function F of RFC 6528.
uint64_t siphash(const uint64_t key[2], const uint64_t* words, int n) {
    uint64_t v0 = 0x736f6d6570736575ull ^ key[0], v1 = 0x646f72616e646f6dull ^ key[1];
    uint64_t v2 = 0x6c7967656e657261ull ^ key[0], v3 = 0x7465646279746573ull ^ key[1];
    auto rotl = [](uint64_t x, int b) { return (x << b) | (x >> (64 - b)); };
    auto round = [&] {
        v0 += v1;
        v1 = rotl(v1, 13);
        v1 ^= v0;
        v0 = rotl(v0, 32);
        v2 += v3;
        v3 = rotl(v3, 16);
        v3 ^= v2;
        v0 += v3;
        v3 = rotl(v3, 21);
        v3 ^= v0;
        v2 += v1;
        v1 = rotl(v1, 17);
        v1 ^= v2;
        v2 = rotl(v2, 32);
    };
    for (int i = 0; i < n; ++i) {
        v3 ^= words[i];
        round();
        round();
        v0 ^= words[i];
    }
    uint64_t b = uint64_t(n * 8) << 56;
    v3 ^= b;
    round();
    round();
    v0 ^= b;
    v2 ^= 0xff;
    round();
    round();
    round();
    round();
    return v0 ^ v1 ^ v2 ^ v3;
}

}  // namespace

uint32_t StackImpl::isn(const IpAddr& la, uint16_t lp, const IpAddr& ra, uint16_t rp) {
    uint64_t w[5];
    __builtin_memcpy(&w[0], la.b, 16);
    __builtin_memcpy(&w[2], ra.b, 16);
    w[4] = (uint64_t{lp} << 16) | rp;
    return static_cast<uint32_t>(siphash(isn_key_, w, 5)) + static_cast<uint32_t>(now_ / 4000);
}

Interface* StackImpl::first_device_iface() const {
    return ifaces_;
}

Result<Interface*> StackImpl::attach(Device* dev) {
    if (dev == nullptr) return Error(Errno::kEINVAL);
    auto* ifc = mm::make<Interface>();
    if (ifc == nullptr) return Error(Errno::kENOMEM);
    ifc->dev = dev;
    ifc->index = next_index_++;
    ifc->mac = dev->mac();
    ifc->mtu = dev->mtu();
    if (ifc->mtu < 576) ifc->mtu = 576;
    if (ifc->mtu > 9000) ifc->mtu = 9000;
    ifc->csum_offload = dev->tx_csum_offload();
    uint32_t tso = ifc->csum_offload ? dev->tso_max() : 0;
    ifc->tso_max = tso > 65535 ? 65535 : (tso > ifc->mtu ? tso : 0);
    ifc->v4_gateway = IpAddr::any4();
    ifc->v4_addr = IpAddr::any4();
    // The link-local address from the MAC's modified EUI-64 (RFC 4291 App. A).
    ifc->v6_ll.b[0] = 0xfe;
    ifc->v6_ll.b[1] = 0x80;
    ifc->v6_ll.b[8] = ifc->mac.b[0] ^ 0x02;
    ifc->v6_ll.b[9] = ifc->mac.b[1];
    ifc->v6_ll.b[10] = ifc->mac.b[2];
    ifc->v6_ll.b[11] = 0xff;
    ifc->v6_ll.b[12] = 0xfe;
    ifc->v6_ll.b[13] = ifc->mac.b[3];
    ifc->v6_ll.b[14] = ifc->mac.b[4];
    ifc->v6_ll.b[15] = ifc->mac.b[5];
    Interface** tail = &ifaces_;
    while (*tail != nullptr) tail = &(*tail)->next;
    *tail = ifc;
    return ifc;
}

Result<void> StackImpl::configure_ipv4(Interface* ifc, const Ipv4Config& cfg) {
    if (ifc == nullptr || ifc->is_loopback() || cfg.prefix_len > 32) return Error(Errno::kEINVAL);
    // A static configuration replaces whatever DHCP was doing.
    dhcp_free(ifc);
    ifc->v4_addr = IpAddr::v4(cfg.addr);
    ifc->has_v4 = !ifc->v4_addr.is_any();
    ifc->v4_prefix = cfg.prefix_len;
    ifc->v4_gateway = IpAddr::v4(cfg.gateway);
    __builtin_memcpy(ifc->dns, cfg.dns, 4);
    return {};
}

Result<void> StackImpl::configure_ipv6(Interface* ifc, const Ipv6Config& cfg) {
    if (ifc == nullptr || ifc->is_loopback() || cfg.prefix_len > 128) return Error(Errno::kEINVAL);
    IpAddr a = IpAddr::v6(cfg.addr);
    if (a.is_v4() || a.is_multicast()) return Error(Errno::kEINVAL);
    ifc->v6_global = a;
    ifc->has_v6_global = !a.is_any();
    ifc->v6_prefix = cfg.prefix_len;
    IpAddr gw = IpAddr::v6(cfg.gateway);
    ifc->has_v6_router = !gw.is_any();
    ifc->v6_router = gw;
    ifc->v6_router_expires = kNever;
    ifc->v6_global_expires = kNever;
    return {};
}

bool StackImpl::ipv4_config(Interface* ifc, Ipv4Config* out) const {
    if (ifc == nullptr || !ifc->has_v4) return false;
    __builtin_memcpy(out->addr, ifc->v4_addr.v4_bytes(), 4);
    out->prefix_len = ifc->v4_prefix;
    __builtin_memcpy(out->gateway, ifc->v4_gateway.v4_bytes(), 4);
    __builtin_memcpy(out->dns, ifc->dns, 4);
    return true;
}

Result<Socket*> StackImpl::socket(int family, int type, int protocol) {
    if (family != kAfInet && family != kAfInet6) return Error(Errno::kEAFNOSUPPORT);
    type &= 0xf;  // SOCK_NONBLOCK/SOCK_CLOEXEC are the caller's
    InetSocket* s = nullptr;
    if (type == kSockStream) {
        if (protocol != 0 && protocol != kProtoTcp) return Error(Errno::kEPROTONOSUPPORT);
        s = mm::make<TcpSocket>(this, family);
        if (s == nullptr) return Error(Errno::kENOBUFS);
        s->list_next = tcp_list;
        if (tcp_list != nullptr) tcp_list->list_prev = s;
        tcp_list = s;
    } else if (type == kSockDgram) {
        if (protocol != 0 && protocol != kProtoUdp) return Error(Errno::kEPROTONOSUPPORT);
        s = mm::make<UdpSocket>(this, family);
        if (s == nullptr) return Error(Errno::kENOBUFS);
        s->list_next = udp_list;
        if (udp_list != nullptr) udp_list->list_prev = s;
        udp_list = s;
    } else {
        net_log("kiln: net: socket type %d not supported", type);
        return Error(Errno::kESOCKTNOSUPPORT);
    }
    return static_cast<Socket*>(s);
}

void StackImpl::retire(InetSocket* s) {
    if (s->retired) return;
    s->retired = true;
    InetSocket*& list = s->proto_ == kProtoTcp ? tcp_list : udp_list;
    if (s->list_prev != nullptr)
        s->list_prev->list_next = s->list_next;
    else
        list = s->list_next;
    if (s->list_next != nullptr) s->list_next->list_prev = s->list_prev;
    s->list_next = s->list_prev = nullptr;
    s->dead_next = dead_;
    dead_ = s;
}

void StackImpl::reap() {
    while (dead_ != nullptr) {
        InetSocket* s = dead_;
        dead_ = s->dead_next;
        if (s->proto_ == kProtoTcp)
            mm::destroy(static_cast<TcpSocket*>(s));
        else
            mm::destroy(static_cast<UdpSocket*>(s));
    }
}

void StackImpl::loopback_enqueue(const uint8_t* pkt, size_t len) {
    // Bounded like a device queue: a flood of loopback traffic drops.
    if (loop_count_ >= 4096) {
        stats.tx_dropped++;
        return;
    }
    auto* f = static_cast<LoopFrame*>(mm::heap_alloc(sizeof(LoopFrame) + len));
    if (f == nullptr) {
        stats.tx_dropped++;
        return;
    }
    f->next = nullptr;
    f->len = len;
    __builtin_memcpy(f->data, pkt, len);
    if (loop_tail_ != nullptr)
        loop_tail_->next = f;
    else
        loop_head_ = f;
    loop_tail_ = f;
    loop_count_++;
}

void StackImpl::deliver_loopback() {
    // Delivery may queue more (replies); the loop drains those too.
    while (loop_head_ != nullptr) {
        LoopFrame* f = loop_head_;
        loop_head_ = f->next;
        if (loop_head_ == nullptr) loop_tail_ = nullptr;
        loop_count_--;
        Bytes pkt(f->data, f->len);
        if (f->len > 0 && (f->data[0] >> 4) == 6)
            ipv6_input(&loopback_, pkt, true, false);
        else
            ipv4_input(&loopback_, pkt, true, false);
        mm::heap_free(f);
    }
}

void StackImpl::leave() {
    if (depth_ == 1) {
        deliver_loopback();
        reap();
    }
    depth_--;
}

void StackImpl::receive(Interface* ifc, Span<const uint8_t> frame, bool csum_valid,
                        uint64_t now_ns) {
    StackEntry e(this);
    if (now_ns > now_) now_ = now_ns;
    stats.rx_frames++;
    if (ifc == nullptr || ifc->is_loopback() || frame.size() < kEthHeader) {
        stats.rx_dropped++;
        return;
    }
    const uint8_t* d = frame.data();
    static const uint8_t kBcast[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
    bool bcast = __builtin_memcmp(d, kBcast, 6) == 0;
    bool mcast = (d[0] & 1) != 0;
    if (!mcast && __builtin_memcmp(d, ifc->mac.b, 6) != 0) {
        stats.rx_dropped++;  // not for us (a bridge floods)
        return;
    }
    uint16_t type = load_be16(d + 12);
    Bytes payload = frame.subspan(kEthHeader);
    switch (type) {
        case kEtherArp:
            arp_input(ifc, payload);
            break;
        case kEtherIpv4:
            ipv4_input(ifc, payload, csum_valid, bcast || mcast);
            break;
        case kEtherIpv6:
            ipv6_input(ifc, payload, csum_valid, mcast);
            break;
        default:
            stats.rx_dropped++;
            break;
    }
}

Result<void> StackImpl::start_autoconfig(Interface* ifc, uint64_t now_ns) {
    StackEntry e(this);
    if (now_ns > now_) now_ = now_ns;
    if (ifc == nullptr || ifc->is_loopback()) return Error(Errno::kEINVAL);
    TRY(dhcp_start(this, ifc));
    ifc->slaac = true;
    ifc->rs_sent = 0;
    ifc->rs_deadline = now_;
    return {};
}

void StackImpl::poll(uint64_t now_ns) {
    StackEntry e(this);
    if (now_ns > now_) now_ = now_ns;
    neighbour_timers();
    fragments_expire();
    ipv6_timers();
    dhcp_timers();
    tcp_timers();
}

bool StackImpl::output_pending() const {
    for (const InetSocket* i = tcp_list; i != nullptr; i = i->list_next) {
        const auto* s = static_cast<const TcpSocket*>(i);
        switch (s->state) {
            case TcpState::kEstablished:
            case TcpState::kCloseWait:
                if (s->sndq.size() > 0) return true;
                break;
            case TcpState::kFinWait1:
            case TcpState::kClosing:
            case TcpState::kLastAck:
                return true;  // data or the FIN still unacknowledged
            default:
                break;
        }
    }
    return false;
}

uint64_t StackImpl::next_deadline() const {
    uint64_t d = kNever;
    auto at = [&d](uint64_t t) {
        if (t < d) d = t;
    };
    if (loop_head_ != nullptr) at(now_);
    for (const Neighbour& n : neigh)
        if (n.iface != nullptr) at(n.expires);
    at(fragments_deadline());
    for (Interface* i = ifaces_; i != nullptr; i = i->next) {
        if (i->slaac) at(i->rs_deadline);
        at(i->v6_router_expires);
        at(i->v6_global_expires);
    }
    at(dhcp_deadline());
    at(tcp_deadline());
    return d;
}

}  // namespace kiln::net
