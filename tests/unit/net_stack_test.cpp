// kernel/net below TCP: checksums, ARP, IPv4, ICMP, UDP and loopback, over
// a simulated link (net_test_support.h).
#define KILN_HOSTED_NEW 1  // <new> comes with gtest
#include <gtest/gtest.h>
#include <string.h>

#include <string>
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

namespace {

uint16_t ref_checksum(const uint8_t* p, size_t n) {
    uint32_t s = 0;
    for (size_t i = 0; i + 1 < n; i += 2) s += (uint32_t{p[i]} << 8) | p[i + 1];
    if (n & 1) s += uint32_t{p[n - 1]} << 8;
    while (s >> 16) s = (s & 0xffff) + (s >> 16);
    return static_cast<uint16_t>(~s);
}

}  // namespace

TEST(NetChecksum, MatchesBytewiseReference) {
    std::vector<uint8_t> buf(3000);
    uint32_t x = 12345;
    for (auto& b : buf) {
        x = x * 1103515245 + 12345;
        b = static_cast<uint8_t>(x >> 16);
    }
    for (size_t len : {0, 1, 2, 7, 8, 9, 31, 32, 33, 63, 64, 65, 1499, 1500, 2999}) {
        for (size_t off : {0, 1, 2, 3}) {
            EXPECT_EQ(internet_checksum(buf.data() + off, len), ref_checksum(buf.data() + off, len))
                << "len " << len << " off " << off;
        }
    }
    // All-ones data: the sum must not collapse to 0 (ones' complement).
    std::vector<uint8_t> ones(64, 0xff);
    EXPECT_EQ(internet_checksum(ones.data(), ones.size()), ref_checksum(ones.data(), 64));
    // Pieces combine by addition when each but the last has even length.
    uint64_t s = csum_partial(buf.data(), 100, 0);
    s = csum_partial(buf.data() + 100, 51, s);
    EXPECT_EQ(csum_finish(s), ref_checksum(buf.data(), 151));
    // A packet with its checksum in place sums to all ones.
    uint8_t pkt[20] = {0x45, 0, 0, 20, 0, 1, 0, 0, 64, 17, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2};
    store_be16(pkt + 10, internet_checksum(pkt, 20));
    EXPECT_EQ(csum_fold(csum_partial(pkt, 20, 0)), 0xffff);
}

class NetPair : public kiln_test::TwoStacks {
protected:
    explicit NetPair(bool offload = false) : TwoStacks(offload) {}
    StackImpl* impl(Stack* s) { return static_cast<StackImpl*>(s); }
    Socket* udp(Stack* s, uint16_t port, int family = kAfInet) {
        s->set_now(link.now);
        auto r = s->socket(family, kSockDgram, 0);
        EXPECT_TRUE(r.ok());
        if (port != 0) {
            SockAddr any;
            any.family = static_cast<uint16_t>(family);
            any.port = port;
            EXPECT_TRUE((*r)->bind(any).ok());
        }
        return *r;
    }

};

TEST_F(NetPair, ArpResolvesQueuesAndExpires) {
    Socket* sa = udp(a, 5000);
    Socket* sb = udp(b, 6000);
    SockAddr to = v4addr(10, 0, 0, 2, 6000);
    // Three datagrams before the MAC is known wait in the pending queue.
    for (int i = 0; i < 3; ++i) {
        uint8_t msg[1] = {static_cast<uint8_t>('0' + i)};
        ASSERT_TRUE(sa->send(Span<const uint8_t>(msg, 1), 0, &to).ok());
    }
    auto first = link.frames_from(0, 0);
    ASSERT_EQ(first.size(), 1u);  // only the ARP request went out
    EXPECT_EQ(load_be16(first[0].data.data() + 12), kEtherArp);
    std::string got;
    ASSERT_TRUE(link.run_until(
        [&] {
            uint8_t buf[8];
            while (sb->recv(Span<uint8_t>(buf, 8), 0, nullptr, nullptr).ok())
                got.push_back(static_cast<char>(buf[0]));
            return got.size() == 3;
        },
        kSec));
    EXPECT_EQ(got, "012");
    Neighbour* n = impl(a)->neighbour_find(ia, IpAddr::v4(10, 0, 0, 2));
    ASSERT_NE(n, nullptr);
    EXPECT_TRUE(n->resolved);
    // b learned a from the request.
    EXPECT_NE(impl(b)->neighbour_find(ib, IpAddr::v4(10, 0, 0, 1)), nullptr);
    // With the peer gone, the entry is re-probed and then forgotten.
    link.cut = true;
    link.run_for(70 * kSec);
    EXPECT_EQ(impl(a)->neighbour_find(ia, IpAddr::v4(10, 0, 0, 2)), nullptr);
    sa->close();
    sb->close();
}

TEST_F(NetPair, ArpPendingQueueIsBounded) {
    Socket* sa = udp(a, 5000);
    SockAddr to = v4addr(10, 0, 0, 9, 7);  // nobody has it
    link.cut = true;
    for (int i = 0; i < 100; ++i) {
        uint8_t m = 1;
        ASSERT_TRUE(sa->send(Span<const uint8_t>(&m, 1), 0, &to).ok());
    }
    Neighbour* n = impl(a)->neighbour_find(ia, IpAddr::v4(10, 0, 0, 9));
    ASSERT_NE(n, nullptr);
    EXPECT_LE(n->npending, 16);
    link.run_for(5 * kSec);
    EXPECT_EQ(impl(a)->neighbour_find(ia, IpAddr::v4(10, 0, 0, 9)), nullptr);
    sa->close();
}

namespace {

std::vector<uint8_t> eth_ipv4(const MacAddr& dst, const MacAddr& src, const uint8_t sip[4],
                              const uint8_t dip[4], uint8_t proto, const std::vector<uint8_t>& l4) {
    std::vector<uint8_t> f(14 + 20 + l4.size());
    memcpy(f.data(), dst.b, 6);
    memcpy(f.data() + 6, src.b, 6);
    store_be16(f.data() + 12, kEtherIpv4);
    uint8_t* ip = f.data() + 14;
    ip[0] = 0x45;
    store_be16(ip + 2, static_cast<uint16_t>(20 + l4.size()));
    ip[8] = 64;
    ip[9] = proto;
    memcpy(ip + 12, sip, 4);
    memcpy(ip + 16, dip, 4);
    store_be16(ip + 10, internet_checksum(ip, 20));
    memcpy(ip + 20, l4.data(), l4.size());
    return f;
}

}  // namespace

TEST_F(NetPair, PingGetsEchoReply) {
    // A hand-made echo request from side 0's MAC to b.
    std::vector<uint8_t> icmp = {8, 0, 0, 0, 0x12, 0x34, 0, 7, 'h', 'e', 'l', 'l', 'o'};
    store_be16(icmp.data() + 2, internet_checksum(icmp.data(), icmp.size()));
    const uint8_t sip[4] = {10, 0, 0, 1}, dip[4] = {10, 0, 0, 2};
    auto f = eth_ipv4(link.dev[1].mac(), link.dev[0].mac(), sip, dip, kProtoIcmp, icmp);
    size_t mark = link.sent.size();
    link.inject(1, f);
    link.run_for(10 * kMs);
    // b asked who 10.0.0.1 is (or knew it), then replied.
    bool replied = false;
    for (const Frame& fr : link.frames_from(1, mark)) {
        if (load_be16(fr.data.data() + 12) != kEtherIpv4) continue;
        const uint8_t* ip = fr.data.data() + 14;
        const uint8_t* m = ip + 20;
        if (ip[9] == kProtoIcmp && m[0] == 0 && load_be16(m + 4) == 0x1234 &&
            memcmp(m + 8, "hello", 5) == 0) {
            EXPECT_EQ(internet_checksum(m, fr.data.size() - 34), 0);
            replied = true;
        }
    }
    EXPECT_TRUE(replied);
    // A corrupted checksum gets no reply.
    icmp[8] ^= 1;
    f = eth_ipv4(link.dev[1].mac(), link.dev[0].mac(), sip, dip, kProtoIcmp, icmp);
    mark = link.sent.size();
    link.inject(1, f);
    link.run_for(10 * kMs);
    EXPECT_TRUE(link.frames_from(1, mark).empty());
}

TEST_F(NetPair, UdpExchangeBothWays) {
    Socket* sa = udp(a, 5000);
    Socket* sb = udp(b, 6000);
    SockAddr to_b = v4addr(10, 0, 0, 2, 6000);
    const char* msg = "ping over udp";
    ASSERT_TRUE(sa->send(Span<const uint8_t>((const uint8_t*)msg, strlen(msg)), 0, &to_b).ok());
    uint8_t buf[64];
    SockAddr from;
    size_t full = 0;
    ASSERT_TRUE(link.run_until([&] { return sb->readable_bytes() > 0; }, kSec));
    EXPECT_TRUE(sb->poll_events() & fs::kPollIn);
    auto r = sb->recv(Span<uint8_t>(buf, 4), 0, &from, &full);  // truncated
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(*r, 4u);
    EXPECT_EQ(full, strlen(msg));
    EXPECT_EQ(from.port, 5000);
    EXPECT_EQ(from.addr[3], 1);
    // The rest of the datagram was dropped.
    EXPECT_EQ(sb->recv(Span<uint8_t>(buf, 64), 0, nullptr, nullptr).error(), Errno::kEAGAIN);
    // Reply to the sender through connect().
    b->set_now(link.now);
    ASSERT_TRUE(sb->connect(from).ok());
    SockAddr peer;
    ASSERT_TRUE(sb->peer_name(&peer).ok());
    EXPECT_EQ(peer.port, 5000);
    ASSERT_TRUE(sb->send(Span<const uint8_t>((const uint8_t*)"pong", 4), 0, nullptr).ok());
    ASSERT_TRUE(link.run_until([&] { return sa->readable_bytes() > 0; }, kSec));
    auto r2 = sa->recv(Span<uint8_t>(buf, 64), 0, &from, &full);
    ASSERT_TRUE(r2.ok());
    EXPECT_EQ(std::string((char*)buf, *r2), "pong");
    // Unconnected without a destination: EDESTADDRREQ.
    EXPECT_EQ(sa->send(Span<const uint8_t>(buf, 1), 0, nullptr).error(), Errno::kEDESTADDRREQ);
    (void)r.ok();
    // Bigger than the link MTU: fragmented, and reassembled at b.
    std::vector<uint8_t> big(20000);
    for (size_t i = 0; i < big.size(); ++i) big[i] = static_cast<uint8_t>(i * 31);
    a->set_now(link.now);
    ASSERT_TRUE(sa->send(Span<const uint8_t>(big.data(), big.size()), 0, &to_b).ok());
    ASSERT_TRUE(link.run_until([&] { return sb->readable_bytes() > 0; }, kSec));
    std::vector<uint8_t> back(30000);
    auto r3 = sb->recv(Span<uint8_t>(back.data(), back.size()), 0, nullptr, nullptr);
    ASSERT_TRUE(r3.ok());
    ASSERT_EQ(*r3, big.size());
    back.resize(*r3);
    EXPECT_EQ(back, big);
    // Beyond IPv4's 64 KiB: EMSGSIZE.
    std::vector<uint8_t> huge(65536);
    EXPECT_EQ(sa->send(Span<const uint8_t>(huge.data(), huge.size()), 0, &to_b).error(),
              Errno::kEMSGSIZE);
    sa->close();
    sb->close();
}

TEST_F(NetPair, UdpReceiveQueueIsBounded) {
    Socket* sa = udp(a, 5000);
    Socket* sb = udp(b, 6000);
    int small = 4096;  // doubled to 8192 (Linux's convention)
    ASSERT_TRUE(
        sb->set_option(kSolSocket, kSoRcvbuf, Span<const uint8_t>((uint8_t*)&small, 4)).ok());
    SockAddr to_b = v4addr(10, 0, 0, 2, 6000);
    std::vector<uint8_t> d(1000, 7);
    for (int i = 0; i < 20; ++i) {
        a->set_now(link.now);
        ASSERT_TRUE(sa->send(Span<const uint8_t>(d.data(), d.size()), 0, &to_b).ok());
        link.run_for(kMs);
    }
    EXPECT_LE(sb->readable_bytes(), 1000u);
    int n = 0;
    uint8_t buf[2000];
    while (sb->recv(Span<uint8_t>(buf, sizeof buf), 0, nullptr, nullptr).ok()) n++;
    EXPECT_EQ(n, 8);
    sa->close();
    sb->close();
}

TEST_F(NetPair, UdpClosedPortGivesIcmpAndEconnrefused) {
    Socket* sa = udp(a, 5000);
    ASSERT_TRUE(sa->connect(v4addr(10, 0, 0, 2, 9999)).ok());
    size_t mark = link.sent.size();
    ASSERT_TRUE(sa->send(Span<const uint8_t>((const uint8_t*)"x", 1), 0, nullptr).ok());
    link.run_for(10 * kMs);
    bool icmp = false;
    for (const Frame& f : link.frames_from(1, mark)) {
        const uint8_t* ip = f.data.data() + 14;
        if (load_be16(f.data.data() + 12) == kEtherIpv4 && ip[9] == kProtoIcmp && ip[20] == 3 &&
            ip[21] == 3)
            icmp = true;
    }
    EXPECT_TRUE(icmp);
    EXPECT_TRUE(sa->poll_events() & fs::kPollErr);
    uint8_t buf[4];
    EXPECT_EQ(sa->recv(Span<uint8_t>(buf, 4), 0, nullptr, nullptr).error(), Errno::kECONNREFUSED);
    sa->close();
}

TEST_F(NetPair, BindRules) {
    Socket* s1 = udp(a, 0);
    ASSERT_TRUE(s1->bind(v4addr(0, 0, 0, 0, 7000)).ok());
    Socket* s2 = udp(a, 0);
    EXPECT_EQ(s2->bind(v4addr(0, 0, 0, 0, 7000)).error(), Errno::kEADDRINUSE);
    EXPECT_EQ(s2->bind(v4addr(10, 9, 9, 9, 7001)).error(), Errno::kEADDRNOTAVAIL);
    EXPECT_TRUE(s2->bind(v4addr(10, 0, 0, 1, 0)).ok());
    SockAddr name;
    ASSERT_TRUE(s2->local_name(&name).ok());
    EXPECT_GE(name.port, kEphemeralLow);
    EXPECT_EQ(s2->bind(v4addr(10, 0, 0, 1, 7002)).error(), Errno::kEINVAL);  // bound already
    // AF_INET sockets refuse AF_INET6 addresses.
    Socket* s3 = udp(a, 0);
    EXPECT_EQ(s3->bind(kiln_test::v6addr("::", 7003)).error(), Errno::kEAFNOSUPPORT);
    // IPV6_V6ONLY is no option of an AF_INET socket (python checks this).
    int one = 1;
    EXPECT_EQ(s3->set_option(kSolIpv6, kIpv6V6only, Span<const uint8_t>((uint8_t*)&one, 4)).error(),
              Errno::kENOPROTOOPT);
    s1->close();
    s2->close();
    s3->close();
}

TEST_F(NetPair, LoopbackUdpInsideOneStack) {
    Socket* s1 = udp(a, 4000);
    Socket* s2 = udp(a, 0);
    SockAddr to = v4addr(127, 0, 0, 1, 4000);
    size_t mark = link.sent.size();
    ASSERT_TRUE(s2->send(Span<const uint8_t>((const uint8_t*)"lo", 2), 0, &to).ok());
    // Delivered before send() returned, and nothing went on the wire.
    EXPECT_EQ(s1->readable_bytes(), 2u);
    EXPECT_EQ(link.sent.size(), mark);
    SockAddr from;
    uint8_t buf[4];
    ASSERT_TRUE(s1->recv(Span<uint8_t>(buf, 4), 0, &from, nullptr).ok());
    EXPECT_EQ(from.addr[0], 127);
    // Our own interface address loops back too.
    ASSERT_TRUE(
        s2->send(Span<const uint8_t>((const uint8_t*)"me", 2), 0, &(to = v4addr(10, 0, 0, 1, 4000)))
            .ok());
    EXPECT_EQ(s1->readable_bytes(), 2u);
    EXPECT_EQ(link.sent.size(), mark);
    s1->close();
    s2->close();
}

TEST_F(NetPair, MalformedFramesAreDropped) {
    Socket* sb = udp(b, 6000);
    const uint8_t sip[4] = {10, 0, 0, 1}, dip[4] = {10, 0, 0, 2};
    std::vector<uint8_t> u = {0x13, 0x88, 0x17, 0x70, 0, 12, 0, 0, 'a', 'b', 'c', 'd'};
    auto good = eth_ipv4(link.dev[1].mac(), link.dev[0].mac(), sip, dip, kProtoUdp, u);
    // Every truncation of a good frame, and every single-byte corruption
    // of its headers, is handled without harm.
    for (size_t n = 0; n < good.size(); ++n) {
        std::vector<uint8_t> f(good.begin(), good.begin() + n);
        link.inject(1, f);
    }
    for (size_t i = 0; i < 14 + 20 + 8; ++i) {
        for (uint8_t x : {0x01, 0x80, 0xff}) {
            auto f = good;
            f[i] ^= x;
            link.inject(1, f);
        }
    }
    // Bad UDP length fields.
    for (uint16_t len : {0, 7, 13, 0xffff}) {
        auto f = good;
        store_be16(f.data() + 14 + 20 + 4, len);
        link.inject(1, f);
    }
    // IP total length beyond the frame, and header length beyond it.
    auto f = good;
    store_be16(f.data() + 14 + 2, 200);
    store_be16(f.data() + 14 + 10, 0);
    store_be16(f.data() + 14 + 10, internet_checksum(f.data() + 14, 20));
    link.inject(1, f);
    // The good one still arrives (checksum 0 = none over IPv4).
    link.inject(1, good);
    uint8_t buf[16];
    int got = 0;
    while (sb->recv(Span<uint8_t>(buf, 16), 0, nullptr, nullptr).ok()) got++;
    EXPECT_GE(got, 1);
    sb->close();
}

TEST_F(NetPair, FragmentsAreReassembled) {
    Socket* sb = udp(b, 6000);
    const uint8_t sip[4] = {10, 0, 0, 1}, dip[4] = {10, 0, 0, 2};
    std::vector<uint8_t> udpd(8 + 3000);
    store_be16(udpd.data(), 5000);
    store_be16(udpd.data() + 2, 6000);
    store_be16(udpd.data() + 4, static_cast<uint16_t>(udpd.size()));
    for (size_t i = 8; i < udpd.size(); ++i) udpd[i] = static_cast<uint8_t>(i * 7);
    // Checksum over the pseudo-header and the whole datagram.
    uint64_t s = StackImpl::pseudo_sum(IpAddr::v4(sip), IpAddr::v4(dip), kProtoUdp, udpd.size());
    store_be16(udpd.data() + 6, csum_finish(csum_partial(udpd.data(), udpd.size(), s)));
    // Three fragments, sent last first.
    const size_t pieces[3][2] = {{0, 1480}, {1480, 1480}, {2960, udpd.size() - 2960}};
    for (int k = 2; k >= 0; --k) {
        std::vector<uint8_t> l4(udpd.begin() + pieces[k][0],
                                udpd.begin() + pieces[k][0] + pieces[k][1]);
        auto f = eth_ipv4(link.dev[1].mac(), link.dev[0].mac(), sip, dip, kProtoUdp, l4);
        uint8_t* ip = f.data() + 14;
        store_be16(ip + 4, 77);
        store_be16(ip + 6, static_cast<uint16_t>((k < 2 ? 0x2000 : 0) | (pieces[k][0] / 8)));
        store_be16(ip + 10, 0);
        store_be16(ip + 10, internet_checksum(ip, 20));
        link.inject(1, f);
    }
    std::vector<uint8_t> buf(4000);
    auto r = sb->recv(Span<uint8_t>(buf.data(), buf.size()), 0, nullptr, nullptr);
    ASSERT_TRUE(r.ok());
    ASSERT_EQ(*r, 3000u);
    EXPECT_EQ(memcmp(buf.data(), udpd.data() + 8, 3000), 0);
    // A lone first fragment is given up after the timeout.
    std::vector<uint8_t> l4(udpd.begin(), udpd.begin() + 1480);
    auto f = eth_ipv4(link.dev[1].mac(), link.dev[0].mac(), sip, dip, kProtoUdp, l4);
    store_be16(f.data() + 14 + 6, 0x2000);
    store_be16(f.data() + 14 + 4, 78);
    store_be16(f.data() + 14 + 10, 0);
    store_be16(f.data() + 14 + 10, internet_checksum(f.data() + 14, 20));
    link.inject(1, f);
    EXPECT_NE(impl(b)->fragments_deadline(), kNever);
    link.run_for(31 * kSec);
    EXPECT_EQ(impl(b)->fragments_deadline(), kNever);
    sb->close();
}

TEST_F(NetPair, OffLinkTrafficGoesThroughTheGateway) {
    // a: 10.0.0.1/24 with gateway 10.0.0.2 (b plays the router's part on
    // the link); a datagram to 192.0.2.7 is framed for b's MAC.
    kiln_test::config_v4(a, ia, 1, 24, 2);
    Socket* u = udp(a, 0);
    SockAddr far = v4addr(192, 0, 2, 7, 53);
    size_t mark = link.sent.size();
    ASSERT_TRUE(u->send(Span<const uint8_t>((const uint8_t*)"q", 1), 0, &far).ok());
    link.run_for(10 * kMs);
    bool via_gw = false;
    for (const Frame& f : link.frames_from(0, mark)) {
        if (load_be16(f.data.data() + 12) != kEtherIpv4) continue;
        EXPECT_EQ(memcmp(f.data.data(), link.dev[1].mac().b, 6), 0);
        EXPECT_EQ(f.data[14 + 16], 192);  // the IP destination is the far host
        via_gw = true;
    }
    EXPECT_TRUE(via_gw);
    // Without a gateway: ENETUNREACH.
    kiln_test::config_v4(a, ia, 1, 24, 0);
    EXPECT_EQ(u->send(Span<const uint8_t>((const uint8_t*)"q", 1), 0, &far).error(),
              Errno::kENETUNREACH);
    u->close();
}

TEST_F(NetPair, UnknownProtocolGetsProtocolUnreachable) {
    const uint8_t sip[4] = {10, 0, 0, 1}, dip[4] = {10, 0, 0, 2};
    auto f = eth_ipv4(link.dev[1].mac(), link.dev[0].mac(), sip, dip, 99, {1, 2, 3, 4});
    size_t mark = link.sent.size();
    link.inject(1, f);
    link.run_for(10 * kMs);
    bool got = false;
    for (const Frame& r : link.frames_from(1, mark)) {
        const uint8_t* ip = r.data.data() + 14;
        if (load_be16(r.data.data() + 12) == kEtherIpv4 && ip[9] == kProtoIcmp && ip[20] == 3 &&
            ip[21] == 2) {
            EXPECT_EQ(ip[20 + 8 + 9], 99);  // the quoted header
            got = true;
        }
    }
    EXPECT_TRUE(got);
    // Not for a broadcast, though.
    const uint8_t bcast[4] = {255, 255, 255, 255};
    MacAddr all;
    memset(all.b, 0xff, 6);
    f = eth_ipv4(all, link.dev[0].mac(), sip, bcast, 99, {1, 2, 3, 4});
    mark = link.sent.size();
    link.inject(1, f);
    link.run_for(10 * kMs);
    EXPECT_TRUE(link.frames_from(1, mark).empty());
}

TEST_F(NetPair, UdpDisconnectKeepsOnlyWhatBindChose) {
    // Bound to a port: AF_UNSPEC keeps it; auto-bound by connect: it goes
    // (Linux's udp_disconnect).
    Socket* s1 = udp(a, 7777);
    ASSERT_TRUE(s1->connect(v4addr(10, 0, 0, 2, 9)).ok());
    SockAddr unspec;
    ASSERT_TRUE(s1->connect(unspec).ok());
    SockAddr name;
    ASSERT_TRUE(s1->local_name(&name).ok());
    EXPECT_EQ(name.port, 7777);
    EXPECT_EQ(name.addr[0], 0);  // the address connect() chose is dropped
    Socket* s2 = udp(a, 0);
    ASSERT_TRUE(s2->connect(v4addr(10, 0, 0, 2, 9)).ok());
    ASSERT_TRUE(s2->local_name(&name).ok());
    EXPECT_NE(name.port, 0);
    EXPECT_EQ(name.addr[3], 1);
    ASSERT_TRUE(s2->connect(unspec).ok());
    ASSERT_TRUE(s2->local_name(&name).ok());
    EXPECT_EQ(name.port, 0);
    EXPECT_EQ(s2->send(Span<const uint8_t>((const uint8_t*)"x", 1), 0, nullptr).error(),
              Errno::kEDESTADDRREQ);
    s1->close();
    s2->close();
}

TEST_F(NetPair, UdpMsgMoreAndCorkMakeOneDatagram) {
    Socket* sa = udp(a, 5000);
    Socket* sb = udp(b, 6000);
    SockAddr to = v4addr(10, 0, 0, 2, 6000);
    ASSERT_TRUE(sa->send(Span<const uint8_t>((const uint8_t*)"ab", 2), kMsgMore, &to).ok());
    ASSERT_TRUE(sa->send(Span<const uint8_t>((const uint8_t*)"cd", 2), kMsgMore, nullptr).ok());
    ASSERT_TRUE(sa->send(Span<const uint8_t>((const uint8_t*)"e", 1), 0, nullptr).ok());
    int one = 1, zero = 0;
    ASSERT_TRUE(sa->set_option(kSolUdp, kUdpCork, Span<const uint8_t>((uint8_t*)&one, 4)).ok());
    ASSERT_TRUE(sa->send(Span<const uint8_t>((const uint8_t*)"fg", 2), 0, &to).ok());
    ASSERT_TRUE(sa->send(Span<const uint8_t>((const uint8_t*)"h", 1), 0, &to).ok());
    ASSERT_TRUE(sa->set_option(kSolUdp, kUdpCork, Span<const uint8_t>((uint8_t*)&zero, 4)).ok());
    std::vector<std::string> got;
    ASSERT_TRUE(link.run_until(
        [&] {
            uint8_t buf[16];
            for (;;) {
                auto r = sb->recv(Span<uint8_t>(buf, 16), 0, nullptr, nullptr);
                if (!r.ok()) break;
                got.emplace_back((char*)buf, *r);
            }
            return got.size() == 2;
        },
        kSec));
    EXPECT_EQ(got[0], "abcde");
    EXPECT_EQ(got[1], "fgh");
    sa->close();
    sb->close();
}

TEST_F(NetPair, IcmpErrorsAreRateLimited) {
    // A burst of datagrams at a closed port draws a bounded number of
    // port-unreachable errors; after a second there are tokens again.
    const uint8_t sip[4] = {10, 0, 0, 1}, dip[4] = {10, 0, 0, 2};
    std::vector<uint8_t> u = {0x13, 0x88, 0x27, 0x0f, 0, 9, 0, 0, 'x'};
    auto f = eth_ipv4(link.dev[1].mac(), link.dev[0].mac(), sip, dip, kProtoUdp, u);
    auto count = [&](size_t mark) {
        int n = 0;
        for (const Frame& r : link.frames_from(1, mark))
            if (load_be16(r.data.data() + 12) == kEtherIpv4 && r.data[14 + 9] == kProtoIcmp) n++;
        return n;
    };
    size_t mark = link.sent.size();
    for (int i = 0; i < 500; ++i) link.inject(1, f);
    link.run_for(kMs);
    int first = count(mark);
    EXPECT_GE(first, 10);
    EXPECT_LE(first, 60);
    link.run_for(2 * kSec);
    mark = link.sent.size();
    link.inject(1, f);
    link.run_for(kMs);
    EXPECT_EQ(count(mark), 1);
}
