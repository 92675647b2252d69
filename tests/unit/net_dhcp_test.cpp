// kernel/net's DHCPv4 client against a server the test scripts frame by
// frame (RFC 2131 §3.1's exchange, renewal at T1, NAK).
#define KILN_HOSTED_NEW 1  // <new> comes with gtest
#include <gtest/gtest.h>
#include <string.h>

#include <vector>

#include "kiln/byteorder.h"
#include "kiln/checksum.h"
#include "mm/new.h"
#include "net/stack.h"
#include "net_test_support.h"

using namespace kiln;
using namespace kiln::net;
using kiln_test::Frame;
using kiln_test::NetLink;

namespace {

struct Request {
    bool ok = false;
    uint8_t type = 0;
    uint32_t xid = 0;
    uint8_t dst_ip[4] = {};
    uint8_t ciaddr[4] = {};
    uint8_t requested[4] = {};
    bool has_requested = false;
};

// Parses a client frame as a DHCP request.
Request parse_request(const Frame& f) {
    Request r;
    const auto& d = f.data;
    if (d.size() < 14 + 20 + 8 + 240 || load_be16(d.data() + 12) != kEtherIpv4) return r;
    const uint8_t* ip = d.data() + 14;
    if (ip[9] != kProtoUdp) return r;
    const uint8_t* u = ip + 20;
    if (load_be16(u) != 68 || load_be16(u + 2) != 67) return r;
    const uint8_t* m = u + 8;
    size_t mlen = load_be16(u + 4) - 8;
    memcpy(r.dst_ip, ip + 16, 4);
    r.xid = load_be32(m + 4);
    memcpy(r.ciaddr, m + 12, 4);
    // UDP checksum is right.
    uint64_t s = StackImpl::pseudo_sum(IpAddr::v4(ip + 12), IpAddr::v4(ip + 16), kProtoUdp,
                                       load_be16(u + 4));
    EXPECT_EQ(csum_fold(csum_partial(u, load_be16(u + 4), s)), 0xffff);
    for (size_t i = 240; i + 1 < mlen && m[i] != 255;) {
        if (m[i] == 0) {
            ++i;
            continue;
        }
        uint8_t code = m[i], len = m[i + 1];
        if (code == 53) r.type = m[i + 2];
        if (code == 50 && len == 4) {
            memcpy(r.requested, m + i + 2, 4);
            r.has_requested = true;
        }
        i += 2 + len;
    }
    r.ok = true;
    return r;
}

std::vector<uint8_t> reply(const MacAddr& client, uint32_t xid, uint8_t type, const uint8_t yi[4],
                           uint32_t lease) {
    std::vector<uint8_t> m(240, 0);
    m[0] = 2;
    m[1] = 1;
    m[2] = 6;
    store_be32(m.data() + 4, xid);
    memcpy(m.data() + 16, yi, 4);
    memcpy(m.data() + 28, client.b, 6);
    m[236] = 99;
    m[237] = 130;
    m[238] = 83;
    m[239] = 99;
    auto opt = [&](uint8_t code, std::vector<uint8_t> v) {
        m.push_back(code);
        m.push_back(static_cast<uint8_t>(v.size()));
        m.insert(m.end(), v.begin(), v.end());
    };
    opt(53, {type});
    opt(54, {10, 0, 2, 2});
    opt(1, {255, 255, 255, 0});
    opt(3, {10, 0, 2, 2});
    opt(6, {10, 0, 2, 3});
    opt(51, {static_cast<uint8_t>(lease >> 24), static_cast<uint8_t>(lease >> 16),
             static_cast<uint8_t>(lease >> 8), static_cast<uint8_t>(lease)});
    m.push_back(255);
    std::vector<uint8_t> f(14 + 20 + 8 + m.size());
    memset(f.data(), 0xff, 6);
    f[6] = 0x52;
    f[11] = 0x99;
    store_be16(f.data() + 12, kEtherIpv4);
    uint8_t* ip = f.data() + 14;
    ip[0] = 0x45;
    store_be16(ip + 2, static_cast<uint16_t>(20 + 8 + m.size()));
    ip[8] = 64;
    ip[9] = kProtoUdp;
    const uint8_t src[4] = {10, 0, 2, 2};
    memcpy(ip + 12, src, 4);
    memset(ip + 16, 0xff, 4);
    store_be16(ip + 10, internet_checksum(ip, 20));
    uint8_t* u = ip + 20;
    store_be16(u, 67);
    store_be16(u + 2, 68);
    store_be16(u + 4, static_cast<uint16_t>(8 + m.size()));
    memcpy(u + 8, m.data(), m.size());
    return f;
}

}  // namespace

class NetDhcp : public ::testing::Test {
protected:
    void SetUp() override {
        s = Stack::create();
        ASSERT_NE(s, nullptr);
        i = link.attach(0, s);
    }
    void TearDown() override { mm::destroy(s); }
    // The latest DHCP request from the client since `mark`.
    Request last_request(size_t mark) {
        Request last;
        for (const Frame& f : link.frames_from(0, mark)) {
            Request r = parse_request(f);
            if (r.ok) last = r;
        }
        return last;
    }
    NetLink link;
    Stack* s = nullptr;
    Interface* i = nullptr;
};

TEST_F(NetDhcp, DiscoverOfferRequestAckAndRenew) {
    ASSERT_TRUE(s->start_autoconfig(i, link.now).ok());
    Request disc = last_request(0);
    ASSERT_TRUE(disc.ok);
    EXPECT_EQ(disc.type, 1);
    EXPECT_EQ(disc.dst_ip[0], 255);
    // The client retransmits while nobody answers.
    size_t mark = link.sent.size();
    link.run_for(3 * kSec);
    EXPECT_TRUE(last_request(mark).ok);
    Request d2 = last_request(0);
    const uint8_t offer_ip[4] = {10, 0, 2, 15};
    mark = link.sent.size();
    link.inject(0, reply(link.dev[0].mac(), d2.xid, 2, offer_ip, 3600));
    Request req = last_request(mark);
    ASSERT_TRUE(req.ok);
    EXPECT_EQ(req.type, 3);
    ASSERT_TRUE(req.has_requested);
    EXPECT_EQ(memcmp(req.requested, offer_ip, 4), 0);
    Ipv4Config cfg;
    EXPECT_FALSE(s->ipv4_config(i, &cfg));
    link.inject(0, reply(link.dev[0].mac(), req.xid, 5, offer_ip, 3600));
    ASSERT_TRUE(s->ipv4_config(i, &cfg));
    EXPECT_EQ(memcmp(cfg.addr, offer_ip, 4), 0);
    EXPECT_EQ(cfg.prefix_len, 24);
    EXPECT_EQ(cfg.gateway[3], 2);
    EXPECT_EQ(cfg.dns[3], 3);
    // A late duplicate offer changes nothing.
    link.inject(0, reply(link.dev[0].mac(), req.xid, 2, offer_ip, 3600));
    // At T1 (half the lease) it renews by unicast to the server.
    mark = link.sent.size();
    link.run_for(1799 * kSec);
    EXPECT_FALSE(last_request(mark).ok);
    link.cut = true;  // the ARP for the server goes unanswered at first
    link.run_for(2 * kSec);
    link.cut = false;
    // Answer ARP for the server so the unicast goes out.
    // (The stack resolves 10.0.2.2 on-link; reply by hand.)
    std::vector<uint8_t> arp(42, 0);
    memcpy(arp.data(), link.dev[0].mac().b, 6);
    arp[6] = 0x52;
    arp[11] = 0x99;
    store_be16(arp.data() + 12, kEtherArp);
    uint8_t* a = arp.data() + 14;
    store_be16(a, 1);
    store_be16(a + 2, kEtherIpv4);
    a[4] = 6;
    a[5] = 4;
    store_be16(a + 6, 2);
    a[8] = 0x52;
    a[13] = 0x99;
    a[14] = 10;
    a[16] = 2;
    a[17] = 2;
    memcpy(a + 18, link.dev[0].mac().b, 6);
    memcpy(a + 24, offer_ip, 4);
    link.inject(0, arp);
    Request renew = last_request(mark);
    ASSERT_TRUE(renew.ok);
    EXPECT_EQ(renew.type, 3);
    EXPECT_EQ(renew.dst_ip[3], 2);  // unicast to the server
    EXPECT_EQ(memcmp(renew.ciaddr, offer_ip, 4), 0);
    EXPECT_FALSE(renew.has_requested);
    link.inject(0, reply(link.dev[0].mac(), renew.xid, 5, offer_ip, 3600));
    // Renewed: still configured well past the first lease's end.
    link.run_for(3000 * kSec);
    EXPECT_TRUE(s->ipv4_config(i, &cfg));
}

TEST_F(NetDhcp, NakRestartsAndLeaseExpiryDropsTheAddress) {
    ASSERT_TRUE(s->start_autoconfig(i, link.now).ok());
    const uint8_t ip1[4] = {10, 0, 2, 20};
    Request d = last_request(0);
    size_t mark = link.sent.size();
    link.inject(0, reply(link.dev[0].mac(), d.xid, 2, ip1, 100));
    Request req = last_request(mark);
    ASSERT_EQ(req.type, 3);
    mark = link.sent.size();
    link.inject(0, reply(link.dev[0].mac(), req.xid, 6, ip1, 100));  // NAK
    link.run_for(2 * kSec);
    Request again = last_request(mark);
    ASSERT_TRUE(again.ok);
    EXPECT_EQ(again.type, 1);  // back to DISCOVER
    mark = link.sent.size();
    link.inject(0, reply(link.dev[0].mac(), again.xid, 2, ip1, 100));
    req = last_request(mark);
    link.inject(0, reply(link.dev[0].mac(), req.xid, 5, ip1, 100));
    Ipv4Config cfg;
    ASSERT_TRUE(s->ipv4_config(i, &cfg));
    // Nobody answers the renewals: at the end of the lease the address goes.
    link.cut = true;
    link.run_for(101 * kSec);
    EXPECT_FALSE(s->ipv4_config(i, &cfg));
    // Garbage on port 68 is ignored.
    std::vector<uint8_t> junk = reply(link.dev[0].mac(), 1, 5, ip1, 100);
    junk.resize(14 + 20 + 8 + 10);
    store_be16(junk.data() + 14 + 2, static_cast<uint16_t>(20 + 8 + 10));
    store_be16(junk.data() + 14 + 10, 0);
    store_be16(junk.data() + 14 + 10, internet_checksum(junk.data() + 14, 20));
    store_be16(junk.data() + 14 + 20 + 4, 18);
    link.inject(0, junk);
    EXPECT_FALSE(s->ipv4_config(i, &cfg));
}
