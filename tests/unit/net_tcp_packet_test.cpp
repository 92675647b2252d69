// kernel/net's TCP against hand-built segments: malformed headers and
// options, bad checksums, RFC 5961's challenge ACKs, and what a listener
// answers. The test plays the peer on side 1 of the simulated link.
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

using namespace kiln;
using namespace kiln::net;
using kiln_test::Frame;
using kiln_test::NetLink;
using kiln_test::v4addr;

namespace {

const uint8_t kPeerIp[4] = {10, 0, 0, 9};
const uint8_t kStackIp[4] = {10, 0, 0, 1};

struct Seg {
    uint16_t sport = 5555, dport = 80;
    uint32_t seq = 0, ack = 0;
    uint8_t flags = 0;
    uint16_t wnd = 65535;
    std::vector<uint8_t> opts;
    std::vector<uint8_t> data;
    int doff_override = -1;
    bool bad_csum = false;
};

struct Parsed {
    bool ok = false;
    uint32_t seq = 0, ack = 0;
    uint8_t flags = 0;
    uint16_t wnd = 0;
    size_t len = 0;
};

}  // namespace

class NetTcpPacket : public ::testing::Test {
protected:
    void SetUp() override {
        s = Stack::create();
        i = link.attach(0, s);
        kiln_test::config_v4(s, i, 1);
        // Teach the stack the peer's MAC (an ARP request from it).
        std::vector<uint8_t> arp(42, 0);
        memset(arp.data(), 0xff, 6);
        memcpy(arp.data() + 6, link.dev[1].mac().b, 6);
        store_be16(arp.data() + 12, kEtherArp);
        uint8_t* a = arp.data() + 14;
        store_be16(a, 1);
        store_be16(a + 2, kEtherIpv4);
        a[4] = 6;
        a[5] = 4;
        store_be16(a + 6, 1);
        memcpy(a + 8, link.dev[1].mac().b, 6);
        memcpy(a + 14, kPeerIp, 4);
        memcpy(a + 24, kStackIp, 4);
        link.inject(0, arp);
        s->set_now(link.now);
        l = *s->socket(kAfInet, kSockStream, 0);
        ASSERT_TRUE(l->bind(v4addr(0, 0, 0, 0, 80)).ok());
        ASSERT_TRUE(l->listen(4).ok());
    }
    void TearDown() override {
        l->close();
        mm::destroy(s);
    }
    void send(const Seg& g) {
        size_t hl = 20 + g.opts.size();
        std::vector<uint8_t> t(hl + g.data.size());
        store_be16(t.data(), g.sport);
        store_be16(t.data() + 2, g.dport);
        store_be32(t.data() + 4, g.seq);
        store_be32(t.data() + 8, g.ack);
        t[12] = static_cast<uint8_t>((g.doff_override >= 0 ? g.doff_override : hl / 4) << 4);
        t[13] = g.flags;
        store_be16(t.data() + 14, g.wnd);
        memcpy(t.data() + 20, g.opts.data(), g.opts.size());
        memcpy(t.data() + hl, g.data.data(), g.data.size());
        uint64_t ps =
            StackImpl::pseudo_sum(IpAddr::v4(kPeerIp), IpAddr::v4(kStackIp), kProtoTcp, t.size());
        uint16_t c = csum_finish(csum_partial(t.data(), t.size(), ps));
        store_be16(t.data() + 16, g.bad_csum ? static_cast<uint16_t>(c ^ 0x5555) : c);
        std::vector<uint8_t> f(14 + 20 + t.size());
        memcpy(f.data(), link.dev[0].mac().b, 6);
        memcpy(f.data() + 6, link.dev[1].mac().b, 6);
        store_be16(f.data() + 12, kEtherIpv4);
        uint8_t* ip = f.data() + 14;
        ip[0] = 0x45;
        store_be16(ip + 2, static_cast<uint16_t>(20 + t.size()));
        ip[8] = 64;
        ip[9] = kProtoTcp;
        memcpy(ip + 12, kPeerIp, 4);
        memcpy(ip + 16, kStackIp, 4);
        store_be16(ip + 10, internet_checksum(ip, 20));
        memcpy(ip + 20, t.data(), t.size());
        link.inject(0, f);
    }
    // The TCP segments the stack sent since `mark`.
    std::vector<Parsed> replies(size_t mark) {
        std::vector<Parsed> out;
        for (const Frame& f : link.frames_from(0, mark)) {
            if (load_be16(f.data.data() + 12) != kEtherIpv4) continue;
            const uint8_t* ip = f.data.data() + 14;
            if (ip[9] != kProtoTcp) continue;
            const uint8_t* t = ip + 20;
            Parsed p;
            p.ok = true;
            p.seq = load_be32(t + 4);
            p.ack = load_be32(t + 8);
            p.flags = t[13];
            p.wnd = load_be16(t + 14);
            p.len = load_be16(ip + 2) - 20 - (t[12] >> 4) * 4;
            // Every segment the stack sends has a valid checksum.
            uint64_t ps = StackImpl::pseudo_sum(IpAddr::v4(ip + 12), IpAddr::v4(ip + 16), kProtoTcp,
                                                load_be16(ip + 2) - 20);
            EXPECT_EQ(csum_fold(csum_partial(t, load_be16(ip + 2) - 20, ps)), 0xffff);
            out.push_back(p);
        }
        return out;
    }
    // Completes a handshake from port `sport`; returns the stack's ISS+1.
    uint32_t handshake(uint16_t sport, uint32_t iss) {
        size_t mark = link.sent.size();
        Seg syn;
        syn.sport = sport;
        syn.seq = iss;
        syn.flags = kSyn;
        syn.opts = {2, 4, 0x05, 0xb4};
        send(syn);
        auto r = replies(mark);
        EXPECT_EQ(r.size(), 1u);
        if (r.empty()) return 0;
        EXPECT_EQ(r[0].flags, kSyn | kAck);
        EXPECT_EQ(r[0].ack, iss + 1);
        Seg ack;
        ack.sport = sport;
        ack.seq = iss + 1;
        ack.ack = r[0].seq + 1;
        ack.flags = kAck;
        send(ack);
        return r[0].seq + 1;
    }

    NetLink link;
    Stack* s = nullptr;
    Interface* i = nullptr;
    Socket* l = nullptr;
};

TEST_F(NetTcpPacket, MalformedSynsGetNoConnection) {
    size_t mark = link.sent.size();
    Seg g;
    g.flags = kSyn;
    g.seq = 100;
    // Truncated options: an MSS option whose length runs past the header.
    g.opts = {1, 1, 1, 2};
    send(g);
    g.opts = {2, 4, 5};  // not a multiple of 4: padded below by doff
    g.opts.push_back(0);
    g.opts[1] = 8;  // length beyond the options
    send(g);
    g.opts = {3, 0, 0, 0};  // a zero length
    send(g);
    g.opts.clear();
    g.doff_override = 4;  // below the minimum
    send(g);
    g.doff_override = 15;  // beyond the segment
    send(g);
    g.doff_override = -1;
    g.bad_csum = true;  // a bad checksum
    send(g);
    EXPECT_TRUE(replies(mark).empty());
    EXPECT_EQ(static_cast<TcpSocket*>(l)->nsyn, 0);
    // A good SYN after all that is answered, with odd option padding fine.
    g.bad_csum = false;
    g.opts = {1, 1, 1, 0};
    send(g);
    auto r = replies(mark);
    ASSERT_EQ(r.size(), 1u);
    EXPECT_EQ(r[0].flags, kSyn | kAck);
    EXPECT_EQ(r[0].ack, 101u);
}

TEST_F(NetTcpPacket, ListenerAnswersAckWithRstAndIgnoresRst) {
    size_t mark = link.sent.size();
    Seg g;
    g.flags = kAck;
    g.seq = 5;
    g.ack = 12345;
    send(g);
    auto r = replies(mark);
    ASSERT_EQ(r.size(), 1u);
    EXPECT_EQ(r[0].flags & kRst, kRst);
    EXPECT_EQ(r[0].seq, 12345u);
    mark = link.sent.size();
    g.flags = kRst;
    send(g);
    EXPECT_TRUE(replies(mark).empty());
    // To a closed port: RST|ACK acknowledging the SYN.
    g.dport = 81;
    g.flags = kSyn;
    g.seq = 700;
    send(g);
    r = replies(mark);
    ASSERT_EQ(r.size(), 1u);
    EXPECT_EQ(r[0].flags, kRst | kAck);
    EXPECT_EQ(r[0].ack, 701u);
}

TEST_F(NetTcpPacket, ChallengeAcksAgainstBlindResetAndSyn) {
    uint32_t snd = handshake(4000, 1000);
    auto acc = l->accept(nullptr);
    ASSERT_TRUE(acc.ok());
    Socket* c = *acc;
    // A RST inside the window but not at RCV.NXT: challenge ACK, no reset
    // (RFC 5961 §3.2).
    size_t mark = link.sent.size();
    Seg g;
    g.sport = 4000;
    g.seq = 1001 + 100;
    g.flags = kRst;
    send(g);
    auto r = replies(mark);
    ASSERT_EQ(r.size(), 1u);
    EXPECT_EQ(r[0].flags, kAck);
    EXPECT_EQ(r[0].ack, 1001u);
    EXPECT_EQ(static_cast<TcpSocket*>(c)->state, TcpState::kEstablished);
    // A SYN on the connection: challenge ACK too (§4.2).
    mark = link.sent.size();
    g.flags = kSyn;
    g.seq = 5000;
    send(g);
    r = replies(mark);
    ASSERT_EQ(r.size(), 1u);
    EXPECT_EQ(r[0].flags, kAck);
    EXPECT_EQ(static_cast<TcpSocket*>(c)->state, TcpState::kEstablished);
    // Outside the window: an ACK, nothing else.
    mark = link.sent.size();
    g.flags = kAck;
    g.seq = 1001 + 0x40000000;
    g.ack = snd;
    g.data = {'x'};
    send(g);
    EXPECT_EQ(c->readable_bytes(), 0u);
    // An ACK for data never sent: ignored with an ACK.
    g.seq = 1001;
    g.ack = snd + 5000;
    g.data = {'y'};
    send(g);
    EXPECT_EQ(c->readable_bytes(), 0u);
    // The exact RST resets.
    g.flags = kRst;
    g.seq = 1001;
    g.data.clear();
    send(g);
    EXPECT_EQ(static_cast<TcpSocket*>(c)->state, TcpState::kClosed);
    EXPECT_EQ(c->take_error(), static_cast<int>(Errno::kECONNRESET));
    c->close();
}

TEST_F(NetTcpPacket, OutOfOrderSegmentsAndFinAreReassembled) {
    uint32_t snd = handshake(4001, 2000);
    Socket* c = *l->accept(nullptr);
    auto seg = [&](uint32_t off, const char* txt, uint8_t extra = 0) {
        Seg g;
        g.sport = 4001;
        g.seq = 2001 + off;
        g.ack = snd;
        g.flags = static_cast<uint8_t>(kAck | extra);
        g.data.assign(txt, txt + strlen(txt));
        send(g);
    };
    size_t mark = link.sent.size();
    seg(10, "klmno", kFin);  // the FIN comes first, after a hole
    seg(5, "fghij");
    EXPECT_EQ(c->readable_bytes(), 0u);
    auto r = replies(mark);
    ASSERT_GE(r.size(), 2u);  // duplicate ACKs at once for out-of-order data
    EXPECT_EQ(r.back().ack, 2001u);
    seg(0, "abcde");
    EXPECT_EQ(c->readable_bytes(), 15u);
    uint8_t buf[32];
    auto n = c->recv(Span<uint8_t>(buf, sizeof buf), 0, nullptr, nullptr);
    ASSERT_TRUE(n.ok());
    EXPECT_EQ(std::string((char*)buf, *n), "abcdefghijklmno");
    EXPECT_EQ(*c->recv(Span<uint8_t>(buf, sizeof buf), 0, nullptr, nullptr), 0u);  // the FIN
    EXPECT_EQ(static_cast<TcpSocket*>(c)->state, TcpState::kCloseWait);
    r = replies(mark);
    EXPECT_EQ(r.back().ack, 2001u + 15 + 1);
    // Overlapping retransmissions change nothing.
    seg(3, "defgh");
    EXPECT_EQ(c->readable_bytes(), 0u);
    c->close();
}

TEST_F(NetTcpPacket, WindowScaleOnlyWhenThePeerOffersIt) {
    size_t mark = link.sent.size();
    Seg g;
    g.sport = 4100;
    g.seq = 10;
    g.flags = kSyn;
    g.opts = {2, 4, 0x05, 0xb4};  // MSS only
    send(g);
    std::vector<Frame> out = link.frames_from(0, mark);
    ASSERT_EQ(out.size(), 1u);
    const uint8_t* t = out[0].data.data() + 14 + 20;
    EXPECT_EQ((t[12] >> 4) * 4, 24);  // MSS, no window scale
    EXPECT_EQ(t[20], 2);
    // With it offered, the answer has it.
    mark = link.sent.size();
    g.sport = 4101;
    g.opts = {2, 4, 0x05, 0xb4, 1, 3, 3, 7};
    send(g);
    out = link.frames_from(0, mark);
    ASSERT_EQ(out.size(), 1u);
    t = out[0].data.data() + 14 + 20;
    EXPECT_EQ((t[12] >> 4) * 4, 28);
    EXPECT_EQ(t[25], 3);
}

TEST_F(NetTcpPacket, CoalescedSegmentIsAcknowledgedAtOnce) {
    // A device that coalesces (virtio-net GUEST_TSO, GRO) hands over one
    // segment of many MSS: it is acknowledged without the delayed-ACK wait.
    uint32_t snd = handshake(4200, 3000);
    Socket* c = *l->accept(nullptr);
    size_t mark = link.sent.size();
    Seg g;
    g.sport = 4200;
    g.seq = 3001;
    g.ack = snd;
    g.flags = kAck;
    g.data.assign(14480, 'z');
    send(g);
    EXPECT_EQ(c->readable_bytes(), 14480u);
    auto r = replies(mark);
    ASSERT_EQ(r.size(), 1u);
    EXPECT_EQ(r[0].ack, 3001u + 14480u);
    // A small one waits for the delayed-ACK timer (40 ms).
    mark = link.sent.size();
    g.seq = 3001 + 14480;
    g.data.assign(100, 'y');
    send(g);
    EXPECT_TRUE(replies(mark).empty());
    link.run_for(50 * kMs);
    r = replies(mark);
    ASSERT_EQ(r.size(), 1u);
    EXPECT_EQ(r[0].ack, 3001u + 14580u);
    c->close();
}

TEST_F(NetTcpPacket, SackBlocksForOutOfOrderData) {
    size_t mark = link.sent.size();
    Seg syn;
    syn.sport = 4300;
    syn.seq = 500;
    syn.flags = kSyn;
    syn.opts = {2, 4, 0x05, 0xb4, 1, 1, 4, 2};  // MSS, SACK-permitted
    send(syn);
    auto out = link.frames_from(0, mark);
    ASSERT_EQ(out.size(), 1u);
    const uint8_t* t = out[0].data.data() + 14 + 20;
    ASSERT_EQ((t[12] >> 4) * 4, 28);  // MSS + NOP NOP SACK-permitted
    EXPECT_EQ(t[26], 4);
    uint32_t snd = load_be32(t + 4) + 1;
    Seg g;
    g.sport = 4300;
    g.seq = 501;
    g.ack = snd;
    g.flags = kAck;
    send(g);
    Socket* c = *l->accept(nullptr);
    // Two runs after a hole at 501: [511, 521) then [531, 541).
    mark = link.sent.size();
    g.seq = 511;
    g.data.assign(10, 'a');
    send(g);
    g.seq = 531;
    send(g);
    out = link.frames_from(0, mark);
    ASSERT_EQ(out.size(), 2u);
    const uint8_t* a2 = out[1].data.data() + 14 + 20;
    ASSERT_EQ((a2[12] >> 4) * 4, 20 + 4 + 16);
    EXPECT_EQ(load_be32(a2 + 8), 501u);
    EXPECT_EQ(a2[22], 5);
    EXPECT_EQ(a2[23], 18);
    // The latest run first (RFC 2018 §4).
    EXPECT_EQ(load_be32(a2 + 24), 531u);
    EXPECT_EQ(load_be32(a2 + 28), 541u);
    EXPECT_EQ(load_be32(a2 + 32), 511u);
    EXPECT_EQ(load_be32(a2 + 36), 521u);
    // The hole filled: a plain cumulative ACK.
    mark = link.sent.size();
    g.seq = 501;
    send(g);
    g.seq = 521;
    send(g);
    out = link.frames_from(0, mark);
    ASSERT_FALSE(out.empty());
    const uint8_t* last = out.back().data.data() + 14 + 20;
    EXPECT_EQ(load_be32(last + 8), 541u);
    EXPECT_EQ((last[12] >> 4) * 4, 20);
    EXPECT_EQ(c->readable_bytes(), 40u);
    c->close();
}
