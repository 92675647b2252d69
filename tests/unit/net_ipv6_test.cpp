// kernel/net over IPv6: neighbour discovery, ICMPv6 echo, router
// solicitation and SLAAC, TCP and UDP, and dual-stack sockets (IPv4 peers
// as ::ffff:a.b.c.d unless IPV6_V6ONLY).
#define KILN_HOSTED_NEW 1  // <new> comes with gtest
#include <gtest/gtest.h>
#include <string.h>

#include <vector>

#include "kiln/byteorder.h"
#include "kiln/checksum.h"
#include "mm/new.h"
#include "net/socket.h"
#include "net/stack.h"
#include "net_test_support.h"
#include "net_two_stacks.h"

using namespace kiln;
using namespace kiln::net;
using kiln_test::Frame;
using kiln_test::NetLink;
using kiln_test::v4addr;
using kiln_test::v6addr;

class NetIpv6 : public kiln_test::TwoStacks {
protected:
    void SetUp() override {
        TwoStacks::SetUp();
        if (HasFatalFailure()) return;
        Ipv6Config c;
        SockAddr x = v6addr("fd00::1", 0);
        memcpy(c.addr, x.addr, 16);
        c.prefix_len = 64;
        ASSERT_TRUE(a->configure_ipv6(ia, c).ok());
        x = v6addr("fd00::2", 0);
        memcpy(c.addr, x.addr, 16);
        ASSERT_TRUE(b->configure_ipv6(ib, c).ok());
    }
    Socket* sock(Stack* s, int family, int type) {
        s->set_now(link.now);
        auto r = s->socket(family, type, 0);
        EXPECT_TRUE(r.ok());
        return *r;
    }
    // Connects a client of `family` on a to `to`, accepting on listener l.
    Socket* accept_one(Socket* l, Socket* c, const SockAddr& to, SockAddr* peer) {
        EXPECT_EQ(c->connect(to).error(), Errno::kEINPROGRESS);
        Socket* s = nullptr;
        link.run_until(
            [&] {
                b->set_now(link.now);
                auto r = l->accept(peer);
                if (r.ok()) s = *r;
                return s != nullptr;
            },
            5 * kSec);
        return s;
    }
};

TEST_F(NetIpv6, NeighbourDiscoveryAndTcp) {
    Socket* l = sock(b, kAfInet6, kSockStream);
    ASSERT_TRUE(l->bind(v6addr("::", 80)).ok());
    ASSERT_TRUE(l->listen(4).ok());
    Socket* c = sock(a, kAfInet6, kSockStream);
    SockAddr peer;
    Socket* s = accept_one(l, c, v6addr("fd00::2", 80), &peer);
    ASSERT_NE(s, nullptr);
    EXPECT_EQ(peer.family, kAfInet6);
    EXPECT_EQ(memcmp(peer.addr, v6addr("fd00::1", 0).addr, 16), 0);
    // The first frame a sent was a neighbour solicitation to the
    // solicited-node group of fd00::2 (33:33:ff:00:00:02).
    const Frame& ns = link.sent[0];
    EXPECT_EQ(load_be16(ns.data.data() + 12), kEtherIpv6);
    EXPECT_EQ(ns.data[0], 0x33);
    EXPECT_EQ(ns.data[2], 0xff);
    EXPECT_EQ(ns.data[14 + 40], 135);
    auto* ct = static_cast<TcpSocket*>(c);
    EXPECT_EQ(ct->mss, 1440);
    std::vector<uint8_t> d(50000);
    for (size_t i = 0; i < d.size(); ++i) d[i] = static_cast<uint8_t>(i * 13);
    size_t off = 0;
    std::vector<uint8_t> got, buf(65536);
    ASSERT_TRUE(link.run_until(
        [&] {
            a->set_now(link.now);
            if (off < d.size()) {
                auto r = c->send(Span<const uint8_t>(d.data() + off, d.size() - off), 0, nullptr);
                if (r.ok()) off += *r;
            }
            auto r = s->recv(Span<uint8_t>(buf.data(), buf.size()), 0, nullptr, nullptr);
            if (r.ok()) got.insert(got.end(), buf.begin(), buf.begin() + *r);
            return got.size() == d.size();
        },
        10 * kSec));
    EXPECT_EQ(got, d);
    c->close();
    s->close();
    l->close();
}

TEST_F(NetIpv6, EchoReplyAndUdp) {
    // UDP first (resolves the neighbours both ways).
    Socket* u1 = sock(a, kAfInet6, kSockDgram);
    Socket* u2 = sock(b, kAfInet6, kSockDgram);
    ASSERT_TRUE(u2->bind(v6addr("fd00::2", 53)).ok());
    SockAddr to = v6addr("fd00::2", 53);
    ASSERT_TRUE(u1->send(Span<const uint8_t>((const uint8_t*)"q6", 2), 0, &to).ok());
    ASSERT_TRUE(link.run_until([&] { return u2->readable_bytes() == 2; }, kSec));
    SockAddr from;
    uint8_t buf[16];
    ASSERT_TRUE(u2->recv(Span<uint8_t>(buf, 16), 0, &from, nullptr).ok());
    EXPECT_EQ(from.family, kAfInet6);
    EXPECT_EQ(from.addr[15], 1);
    // An echo request as side 0 would send it.
    std::vector<uint8_t> f(14 + 40 + 12);
    memcpy(f.data(), link.dev[1].mac().b, 6);
    memcpy(f.data() + 6, link.dev[0].mac().b, 6);
    store_be16(f.data() + 12, kEtherIpv6);
    uint8_t* ip = f.data() + 14;
    ip[0] = 0x60;
    store_be16(ip + 4, 12);
    ip[6] = kProtoIcmp6;
    ip[7] = 64;
    memcpy(ip + 8, v6addr("fd00::1", 0).addr, 16);
    memcpy(ip + 24, v6addr("fd00::2", 0).addr, 16);
    uint8_t* m = ip + 40;
    m[0] = 128;
    store_be16(m + 4, 0x4242);
    memcpy(m + 8, "six!", 4);
    uint64_t s = StackImpl::pseudo_sum(IpAddr::v6(ip + 8), IpAddr::v6(ip + 24), kProtoIcmp6, 12);
    store_be16(m + 2, csum_finish(csum_partial(m, 12, s)));
    size_t mark = link.sent.size();
    link.inject(1, f);
    bool reply = false;
    for (const Frame& r : link.frames_from(1, mark)) {
        const uint8_t* rip = r.data.data() + 14;
        if (load_be16(r.data.data() + 12) == kEtherIpv6 && rip[6] == kProtoIcmp6 &&
            rip[40] == 129 && load_be16(rip + 44) == 0x4242) {
            uint64_t ps =
                StackImpl::pseudo_sum(IpAddr::v6(rip + 8), IpAddr::v6(rip + 24), kProtoIcmp6, 12);
            EXPECT_EQ(csum_fold(csum_partial(rip + 40, 12, ps)), 0xffff);
            reply = true;
        }
    }
    EXPECT_TRUE(reply);
    u1->close();
    u2->close();
}

TEST_F(NetIpv6, LinkLocalTcp) {
    Socket* l = sock(b, kAfInet6, kSockStream);
    ASSERT_TRUE(l->bind(v6addr("::", 22)).ok());
    ASSERT_TRUE(l->listen(4).ok());
    Socket* c = sock(a, kAfInet6, kSockStream);
    SockAddr ll;
    ll.family = kAfInet6;
    ll.port = 22;
    memcpy(ll.addr, static_cast<Interface*>(ib)->v6_ll.b, 16);
    SockAddr peer;
    Socket* s = accept_one(l, c, ll, &peer);
    ASSERT_NE(s, nullptr);
    EXPECT_EQ(peer.addr[0], 0xfe);
    c->close();
    s->close();
    l->close();
}

TEST_F(NetIpv6, DualStackSeesIpv4PeersAsMapped) {
    Socket* l = sock(b, kAfInet6, kSockStream);
    ASSERT_TRUE(l->bind(v6addr("::", 80)).ok());
    ASSERT_TRUE(l->listen(4).ok());
    Socket* c = sock(a, kAfInet, kSockStream);
    SockAddr peer;
    Socket* s = accept_one(l, c, v4addr(10, 0, 0, 2, 80), &peer);
    ASSERT_NE(s, nullptr);
    EXPECT_EQ(peer.family, kAfInet6);
    const uint8_t mapped[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 10, 0, 0, 1};
    EXPECT_EQ(memcmp(peer.addr, mapped, 16), 0);
    SockAddr local;
    ASSERT_TRUE(s->local_name(&local).ok());
    EXPECT_EQ(local.addr[15], 2);
    EXPECT_EQ(local.addr[10], 0xff);
    ASSERT_TRUE(c->send(Span<const uint8_t>((const uint8_t*)"v4", 2), 0, nullptr).ok());
    ASSERT_TRUE(link.run_until([&] { return s->readable_bytes() == 2; }, kSec));
    c->close();
    s->close();
    l->close();
}

TEST_F(NetIpv6, V6OnlyRefusesIpv4) {
    Socket* l = sock(b, kAfInet6, kSockStream);
    int one = 1;
    ASSERT_TRUE(l->set_option(kSolIpv6, kIpv6V6only, Span<const uint8_t>((uint8_t*)&one, 4)).ok());
    ASSERT_TRUE(l->bind(v6addr("::", 80)).ok());
    ASSERT_TRUE(l->listen(4).ok());
    // An AF_INET socket may bind the same port: no overlap with a v6-only one.
    Socket* l4 = sock(b, kAfInet, kSockStream);
    EXPECT_TRUE(l4->bind(v4addr(0, 0, 0, 0, 80)).ok());
    l4->close();
    Socket* c = sock(a, kAfInet, kSockStream);
    EXPECT_EQ(c->connect(v4addr(10, 0, 0, 2, 80)).error(), Errno::kEINPROGRESS);
    ASSERT_TRUE(link.run_until(
        [&] { return static_cast<TcpSocket*>(c)->state == TcpState::kClosed; }, kSec));
    EXPECT_EQ(c->take_error(), static_cast<int>(Errno::kECONNREFUSED));
    // A v6-only socket cannot connect to a mapped address either.
    Socket* c6 = sock(a, kAfInet6, kSockStream);
    ASSERT_TRUE(c6->set_option(kSolIpv6, kIpv6V6only, Span<const uint8_t>((uint8_t*)&one, 4)).ok());
    SockAddr mapped = v6addr("::ffff:a00:2", 80);
    EXPECT_FALSE(c6->connect(mapped).ok());
    c->close();
    c6->close();
    l->close();
}

TEST_F(NetIpv6, LoopbackV6) {
    Socket* l = sock(a, kAfInet6, kSockStream);
    ASSERT_TRUE(l->bind(v6addr("::1", 7)).ok());
    ASSERT_TRUE(l->listen(4).ok());
    Socket* c = sock(a, kAfInet6, kSockStream);
    EXPECT_EQ(c->connect(v6addr("::1", 7)).error(), Errno::kEINPROGRESS);
    auto r = l->accept(nullptr);
    ASSERT_TRUE(r.ok());
    ASSERT_TRUE(c->send(Span<const uint8_t>((const uint8_t*)"lo6", 3), 0, nullptr).ok());
    EXPECT_EQ((*r)->readable_bytes(), 3u);
    c->close();
    (*r)->close();
    l->close();
}

TEST_F(NetIpv6, RouterSolicitationAndSlaac) {
    Stack* s = Stack::create();
    NetLink l2;
    Interface* i = l2.attach(0, s);
    ASSERT_TRUE(s->start_autoconfig(i, l2.now).ok());
    l2.run_for(kMs);
    bool rs = false;
    for (const Frame& f : l2.sent)
        if (load_be16(f.data.data() + 12) == kEtherIpv6 && f.data[14 + 40] == 133) rs = true;
    EXPECT_TRUE(rs);
    // A router advertisement with prefix 2001:db8:1::/64, autonomous.
    std::vector<uint8_t> ra(16 + 32 + 8);
    ra[0] = 134;
    ra[4] = 64;
    store_be16(ra.data() + 6, 1800);
    uint8_t* pi = ra.data() + 16;
    pi[0] = 3;
    pi[1] = 4;
    pi[2] = 64;
    pi[3] = 0xc0;
    store_be32(pi + 4, 86400);
    store_be32(pi + 8, 14400);
    SockAddr pfx = v6addr("2001:db8:1::", 0);
    memcpy(pi + 16, pfx.addr, 16);
    uint8_t* sll = ra.data() + 48;
    sll[0] = 1;
    sll[1] = 1;
    sll[2] = 0x52;
    sll[7] = 0x77;
    std::vector<uint8_t> f(14 + 40 + ra.size());
    f[0] = 0x33;
    f[1] = 0x33;
    f[5] = 1;
    f[6] = 0x52;
    f[11] = 0x77;
    store_be16(f.data() + 12, kEtherIpv6);
    uint8_t* ip = f.data() + 14;
    ip[0] = 0x60;
    store_be16(ip + 4, static_cast<uint16_t>(ra.size()));
    ip[6] = kProtoIcmp6;
    ip[7] = 255;
    SockAddr src = v6addr("fe80::1", 0), dst = v6addr("ff02::1", 0);
    memcpy(ip + 8, src.addr, 16);
    memcpy(ip + 24, dst.addr, 16);
    uint64_t sum =
        StackImpl::pseudo_sum(IpAddr::v6(src.addr), IpAddr::v6(dst.addr), kProtoIcmp6, ra.size());
    store_be16(ra.data() + 2, csum_finish(csum_partial(ra.data(), ra.size(), sum)));
    memcpy(ip + 40, ra.data(), ra.size());
    l2.inject(0, f);
    ASSERT_TRUE(i->has_v6_global);
    EXPECT_EQ(memcmp(i->v6_global.b, pfx.addr, 8), 0);
    EXPECT_EQ(memcmp(i->v6_global.b + 8, i->v6_ll.b + 8, 8), 0);
    EXPECT_TRUE(i->has_v6_router);
    // Off-link destinations now route through the router.
    auto r =
        static_cast<StackImpl*>(s)->route(IpAddr::v6(v6addr("2001:db8:99::5", 0).addr), nullptr);
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r->next_hop, IpAddr::v6(src.addr));
    // Router lifetime 1800 s, valid lifetime 86400 s: the router goes
    // first, then the address.
    l2.run_for(1801 * kSec);
    EXPECT_FALSE(i->has_v6_router);
    EXPECT_TRUE(i->has_v6_global);
    l2.run_for(86400 * kSec);
    EXPECT_FALSE(i->has_v6_global);
    mm::destroy(s);
}

TEST_F(NetIpv6, ClosedPortGivesIcmpv6AndEconnrefused) {
    Socket* u = sock(a, kAfInet6, kSockDgram);
    ASSERT_TRUE(u->connect(v6addr("fd00::2", 9999)).ok());
    ASSERT_TRUE(u->send(Span<const uint8_t>((const uint8_t*)"?", 1), 0, nullptr).ok());
    ASSERT_TRUE(link.run_until([&] { return (u->poll_events() & fs::kPollErr) != 0; }, kSec));
    uint8_t buf[4];
    EXPECT_EQ(u->recv(Span<uint8_t>(buf, 4), 0, nullptr, nullptr).error(), Errno::kECONNREFUSED);
    // And TCP to a closed port is reset over IPv6 too.
    Socket* c = sock(a, kAfInet6, kSockStream);
    EXPECT_EQ(c->connect(v6addr("fd00::2", 9999)).error(), Errno::kEINPROGRESS);
    ASSERT_TRUE(link.run_until(
        [&] { return static_cast<TcpSocket*>(c)->state == TcpState::kClosed; }, kSec));
    EXPECT_EQ(c->take_error(), static_cast<int>(Errno::kECONNREFUSED));
    u->close();
    c->close();
}

TEST_F(NetIpv6, FragmentsAreReassembled) {
    Socket* u = sock(b, kAfInet6, kSockDgram);
    ASSERT_TRUE(u->bind(v6addr("::", 53)).ok());
    SockAddr src = v6addr("fd00::1", 0), dst = v6addr("fd00::2", 0);
    std::vector<uint8_t> udp(8 + 3000);
    store_be16(udp.data(), 5353);
    store_be16(udp.data() + 2, 53);
    store_be16(udp.data() + 4, static_cast<uint16_t>(udp.size()));
    for (size_t k = 8; k < udp.size(); ++k) udp[k] = static_cast<uint8_t>(k * 3);
    uint64_t ps =
        StackImpl::pseudo_sum(IpAddr::v6(src.addr), IpAddr::v6(dst.addr), kProtoUdp, udp.size());
    store_be16(udp.data() + 6, csum_finish(csum_partial(udp.data(), udp.size(), ps)));
    const size_t cut = 1448;
    for (int k = 1; k >= 0; --k) {  // the last piece first
        size_t off = k == 0 ? 0 : cut;
        size_t n = k == 0 ? cut : udp.size() - cut;
        std::vector<uint8_t> f(14 + 40 + 8 + n);
        memcpy(f.data(), link.dev[1].mac().b, 6);
        memcpy(f.data() + 6, link.dev[0].mac().b, 6);
        store_be16(f.data() + 12, kEtherIpv6);
        uint8_t* ip = f.data() + 14;
        ip[0] = 0x60;
        store_be16(ip + 4, static_cast<uint16_t>(8 + n));
        ip[6] = 44;
        ip[7] = 64;
        memcpy(ip + 8, src.addr, 16);
        memcpy(ip + 24, dst.addr, 16);
        uint8_t* fh = ip + 40;
        fh[0] = kProtoUdp;
        store_be16(fh + 2, static_cast<uint16_t>(off | (k == 0 ? 1 : 0)));
        store_be32(fh + 4, 0xabcdef01);
        memcpy(fh + 8, udp.data() + off, n);
        link.inject(1, f);
    }
    std::vector<uint8_t> buf(4000);
    auto r = u->recv(Span<uint8_t>(buf.data(), buf.size()), 0, nullptr, nullptr);
    ASSERT_TRUE(r.ok());
    ASSERT_EQ(*r, 3000u);
    EXPECT_EQ(memcmp(buf.data(), udp.data() + 8, 3000), 0);
    u->close();
}

TEST_F(NetIpv6, LargeDatagramsAreFragmentedAndReassembled) {
    Socket* u1 = sock(a, kAfInet6, kSockDgram);
    Socket* u2 = sock(b, kAfInet6, kSockDgram);
    ASSERT_TRUE(u2->bind(v6addr("::", 53)).ok());
    std::vector<uint8_t> d(9000);
    for (size_t k = 0; k < d.size(); ++k) d[k] = static_cast<uint8_t>(k * 11 + 3);
    SockAddr to = v6addr("fd00::2", 53);
    ASSERT_TRUE(u1->send(Span<const uint8_t>(d.data(), d.size()), 0, &to).ok());
    ASSERT_TRUE(link.run_until([&] { return u2->readable_bytes() > 0; }, kSec));
    std::vector<uint8_t> buf(10000);
    auto r = u2->recv(Span<uint8_t>(buf.data(), buf.size()), 0, nullptr, nullptr);
    ASSERT_TRUE(r.ok());
    buf.resize(*r);
    EXPECT_EQ(buf, d);
    // Every frame on the wire fits the MTU.
    for (const Frame& f : link.sent) EXPECT_LE(f.data.size(), 14u + 1500u);
    u1->close();
    u2->close();
}
