// kernel/net's TCP when the link misbehaves or is pushed: loss and
// retransmission (RTO, fast retransmit), reordering and duplicates, zero
// windows, a full device queue, segmentation offload, bulk transfers and
// many connections.
#define KILN_HOSTED_NEW 1  // <new> comes with gtest
#include <algorithm>

#include "net_tcp_fixture.h"

TEST_F(NetTcp, RetransmitAfterRto) {
    Socket *c, *s;
    connect_pair(&c, &s);
    // Lose the next data segment once.
    int dropped = 0;
    link.drop_if = [&](const Frame& f) {
        const uint8_t* t = tcp_of(f);
        if (t && f.from == 0 && tcp_payload_len(f) > 0 && dropped == 0) {
            dropped++;
            return true;
        }
        return false;
    };
    uint64_t before = static_cast<StackImpl*>(a)->stats.tcp_retransmits;
    auto d = pattern(100, 3);
    EXPECT_EQ(transfer(a, c, s, d, 5 * kSec), d);
    EXPECT_EQ(dropped, 1);
    EXPECT_GT(static_cast<StackImpl*>(a)->stats.tcp_retransmits, before);
    c->close();
    s->close();
    lsock->close();
}

TEST_F(NetTcp, FastRetransmitOnDupAcks) {
    Socket *c, *s;
    connect_pair(&c, &s);
    int nodelay = 1;
    ASSERT_TRUE(
        c->set_option(kSolTcp, kTcpNodelay, Span<const uint8_t>((uint8_t*)&nodelay, 4)).ok());
    // Drop the third data segment once; the ones after it make dup ACKs.
    int seen = 0;
    link.drop_if = [&](const Frame& f) {
        if (f.from == 0 && tcp_of(f) && tcp_payload_len(f) > 0) return ++seen == 3;
        return false;
    };
    auto* ct = static_cast<TcpSocket*>(c);
    uint64_t t0 = link.now;
    auto d = pattern(40000, 4);
    EXPECT_EQ(transfer(a, c, s, d, 5 * kSec), d);
    // Recovered well before one RTO (the initial RTO is 1 s, min 200 ms).
    EXPECT_LT(link.now - t0, 150 * kMs);
    EXPECT_LT(ct->ssthresh, 0xffffffffu);  // a loss event happened
    c->close();
    s->close();
    lsock->close();
}

TEST_F(NetTcp, ReorderingAndDuplicates) {
    Socket *c, *s;
    connect_pair(&c, &s);
    link.reorder_percent = 30;
    link.dup_percent = 10;
    auto d = pattern(300000, 5);
    EXPECT_EQ(transfer(a, c, s, d), d);
    auto e = pattern(300000, 6);
    EXPECT_EQ(transfer(b, s, c, e), e);
    c->close();
    s->close();
    lsock->close();
}

TEST_F(NetTcp, ZeroWindowAndProbes) {
    Socket *c, *s;
    int small = 8192;  // doubled: 16 KiB receive buffer at the server
    lsock = listener(b, 80);
    ASSERT_TRUE(
        lsock->set_option(kSolSocket, kSoRcvbuf, Span<const uint8_t>((uint8_t*)&small, 4)).ok());
    c = tcp(a);
    EXPECT_EQ(c->connect(v4addr(10, 0, 0, 2, 80)).error(), Errno::kEINPROGRESS);
    s = nullptr;
    ASSERT_TRUE(link.run_until(
        [&] {
            auto r = lsock->accept(nullptr);
            if (r.ok()) s = *r;
            return s != nullptr;
        },
        kSec));
    // Fill the receiver: nobody reads.
    auto d = pattern(100000, 7);
    size_t off = 0;
    link.run_until(
        [&] {
            a->set_now(link.now);
            auto r = c->send(Span<const uint8_t>(d.data() + off, d.size() - off), 0, nullptr);
            if (r.ok()) off += *r;
            return false;
        },
        2 * kSec);
    // Full but for less than a segment: receiver-side silly window
    // avoidance keeps the rest closed (RFC 1122 §4.2.3.3).
    size_t filled = s->readable_bytes();
    EXPECT_GT(filled, 16384u - 1460u);
    EXPECT_LE(filled, 16384u);
    auto* ct = static_cast<TcpSocket*>(c);
    EXPECT_LT(ct->snd_wnd, 1460u);
    // Probes keep going out while the window is shut.
    size_t mark = link.sent.size();
    link.run_for(10 * kSec);
    int probes = 0;
    for (const Frame& f : link.frames_from(0, mark))
        if (tcp_of(f)) probes++;
    EXPECT_GE(probes, 2);
    EXPECT_EQ(state(c), TcpState::kEstablished);
    // Make a lost window update: the probe still learns the window opened.
    link.drop_if = [&](const Frame& f) { return f.from == 1; };
    std::vector<uint8_t> got(filled);
    b->set_now(link.now);
    ASSERT_EQ(*s->recv(Span<uint8_t>(got.data(), got.size()), 0, nullptr, nullptr), filled);
    link.run_for(kMs);
    link.drop_if = nullptr;
    std::vector<uint8_t> all(got);
    std::vector<uint8_t> buf(65536);
    ASSERT_TRUE(off == d.size());  // all of it sat in the send queue
    ASSERT_TRUE(link.run_until(
        [&] {
            b->set_now(link.now);
            for (;;) {
                auto r = s->recv(Span<uint8_t>(buf.data(), buf.size()), 0, nullptr, nullptr);
                if (!r.ok() || *r == 0) break;
                all.insert(all.end(), buf.begin(), buf.begin() + *r);
            }
            return all.size() >= d.size();
        },
        120 * kSec));
    EXPECT_EQ(all, d);
    c->close();
    s->close();
    lsock->close();
}

TEST_F(NetTcp, BulkTwoMegabytesEachWayUnderLoss) {
    Socket *c, *s;
    connect_pair(&c, &s);
    link.loss_percent = 5;
    auto d1 = pattern(2 << 20, 11);
    auto got1 = transfer(a, c, s, d1);
    ASSERT_EQ(got1.size(), d1.size());
    EXPECT_TRUE(got1 == d1);
    auto d2 = pattern(2 << 20, 12);
    auto got2 = transfer(b, s, c, d2);
    ASSERT_EQ(got2.size(), d2.size());
    EXPECT_TRUE(got2 == d2);
    link.loss_percent = 0;
    c->close();
    s->close();
    lsock->close();
}

TEST_F(NetTcp, DeviceQueueFullIsRetriedSoon) {
    Socket *c, *s;
    connect_pair(&c, &s);
    link.dev[0].full = true;
    auto d = pattern(10000, 14);
    a->set_now(link.now);
    ASSERT_EQ(*c->send(Span<const uint8_t>(d.data(), d.size()), 0, nullptr), d.size());
    link.run_for(500000);  // 0.5 ms of a full queue
    link.dev[0].full = false;
    uint64_t t0 = link.now;
    std::vector<uint8_t> got, buf(20000);
    ASSERT_TRUE(link.run_until(
        [&] {
            auto r = s->recv(Span<uint8_t>(buf.data(), buf.size()), 0, nullptr, nullptr);
            if (r.ok()) got.insert(got.end(), buf.begin(), buf.begin() + *r);
            return got.size() == d.size();
        },
        5 * kSec));
    EXPECT_EQ(got, d);
    // Well before any retransmission timeout (200 ms at least).
    EXPECT_LT(link.now - t0, 20 * kMs);
    EXPECT_EQ(static_cast<TcpSocket*>(c)->ssthresh, 0xffffffffu);  // no loss inferred
    c->close();
    s->close();
    lsock->close();
}

TEST_F(NetTcp, ManyConnectionsUnderLossLeaveNothingBehind) {
    size_t live0 = mm::heap_stats().live_allocations;
    lsock = listener(b, 80, 256);
    link.loss_percent = 3;
    link.reorder_percent = 5;
    constexpr int kConns = 200;
    std::vector<Socket*> cs, ss;
    for (int i = 0; i < kConns; ++i) {
        Socket* c = tcp(a);
        EXPECT_EQ(c->connect(v4addr(10, 0, 0, 2, 80)).error(), Errno::kEINPROGRESS);
        cs.push_back(c);
    }
    ASSERT_TRUE(link.run_until(
        [&] {
            b->set_now(link.now);
            for (;;) {
                auto r = lsock->accept(nullptr);
                if (!r.ok()) break;
                ss.push_back(*r);
            }
            return ss.size() == kConns;
        },
        60 * kSec));
    // Each client sends a request; each server answers and closes.
    std::vector<uint8_t> req = pattern(3000, 21), resp = pattern(5000, 22);
    for (Socket* c : cs)
        ASSERT_EQ(*c->send(Span<const uint8_t>(req.data(), req.size()), 0, nullptr), req.size());
    std::vector<size_t> got_req(kConns), got_resp(kConns);
    std::vector<bool> answered(kConns);
    std::vector<uint8_t> buf(8192);
    ASSERT_TRUE(link.run_until(
        [&] {
            a->set_now(link.now);
            b->set_now(link.now);
            bool done = true;
            for (int i = 0; i < kConns; ++i) {
                auto r = ss[i]->recv(Span<uint8_t>(buf.data(), buf.size()), 0, nullptr, nullptr);
                if (r.ok()) got_req[i] += *r;
                if (got_req[i] == req.size() && !answered[i]) {
                    EXPECT_EQ(
                        *ss[i]->send(Span<const uint8_t>(resp.data(), resp.size()), 0, nullptr),
                        resp.size());
                    ss[i]->close();
                    answered[i] = true;
                }
                auto q = cs[i]->recv(Span<uint8_t>(buf.data(), buf.size()), 0, nullptr, nullptr);
                if (q.ok()) got_resp[i] += *q;
                if (got_resp[i] < resp.size()) done = false;
            }
            return done;
        },
        300 * kSec));
    for (Socket* c : cs) c->close();
    lsock->close();
    link.loss_percent = 0;
    link.reorder_percent = 0;
    link.run_for(200 * kSec);
    EXPECT_EQ(static_cast<StackImpl*>(a)->tcp_list, nullptr);
    EXPECT_EQ(static_cast<StackImpl*>(b)->tcp_list, nullptr);
    // Every buffer, socket and queued frame was freed (the stacks
    // themselves and their neighbour entries hold no heap memory).
    EXPECT_EQ(mm::heap_stats().live_allocations, live0);
}

TEST(NetTso, LargeSegmentsCutByTheDevice) {
    NetLink link(true);
    link.dev[0].tso = 65535;
    Stack* a = Stack::create();
    Stack* b = Stack::create();
    kiln_test::config_v4(a, link.attach(0, a), 1);
    kiln_test::config_v4(b, link.attach(1, b), 2);
    b->set_now(link.now);
    Socket* l = *b->socket(kAfInet, kSockStream, 0);
    ASSERT_TRUE(l->bind(v4addr(0, 0, 0, 0, 80)).ok());
    ASSERT_TRUE(l->listen(4).ok());
    a->set_now(link.now);
    Socket* c = *a->socket(kAfInet, kSockStream, 0);
    EXPECT_EQ(c->connect(v4addr(10, 0, 0, 2, 80)).error(), Errno::kEINPROGRESS);
    Socket* s = nullptr;
    ASSERT_TRUE(link.run_until(
        [&] {
            auto r = l->accept(nullptr);
            if (r.ok()) s = *r;
            return s != nullptr;
        },
        kSec));
    EXPECT_GT(static_cast<TcpSocket*>(c)->tso_seg, 1460u);
    std::vector<uint8_t> d(3 << 20);
    for (size_t i = 0; i < d.size(); ++i) d[i] = static_cast<uint8_t>(i * 7 + (i >> 12));
    link.loss_percent = 1;
    size_t off = 0;
    std::vector<uint8_t> got, buf(1 << 16);
    ASSERT_TRUE(link.run_until(
        [&] {
            a->set_now(link.now);
            while (off < d.size()) {
                auto r = c->send(Span<const uint8_t>(d.data() + off, d.size() - off), 0, nullptr);
                if (!r.ok()) break;
                off += *r;
            }
            for (;;) {
                auto r = s->recv(Span<uint8_t>(buf.data(), buf.size()), 0, nullptr, nullptr);
                if (!r.ok() || *r == 0) break;
                got.insert(got.end(), buf.begin(), buf.begin() + *r);
            }
            return got.size() == d.size();
        },
        300 * kSec));
    EXPECT_TRUE(got == d);
    // Most data left as large segments: far fewer frames than MSS-sized.
    EXPECT_GT(link.dev[0].gso_frames, 10u);
    size_t transmits = 0;
    (void)transmits;
    c->close();
    s->close();
    l->close();
    link.run_for(200 * kSec);
    mm::destroy(a);
    mm::destroy(b);
}

TEST_F(NetTcp, PathMtuFromIcmpFragmentationNeeded) {
    Socket *c, *s;
    connect_pair(&c, &s);
    // A router on the way takes only 1000-byte packets and says so.
    std::vector<Frame> too_big;
    link.drop_if = [&](const Frame& f) {
        if (f.from == 0 && f.data.size() > 14 + 1000) {
            too_big.push_back(f);
            return true;
        }
        return false;
    };
    auto d = pattern(30000, 31);
    size_t off = 0;
    std::vector<uint8_t> got, buf(65536);
    ASSERT_TRUE(link.run_until(
        [&] {
            for (const Frame& f : too_big) {
                std::vector<uint8_t> icmp(8 + 28);
                icmp[0] = 3;
                icmp[1] = 4;
                store_be16(icmp.data() + 6, 1000);
                memcpy(icmp.data() + 8, f.data.data() + 14, 28);
                store_be16(icmp.data() + 2, internet_checksum(icmp.data(), icmp.size()));
                std::vector<uint8_t> fr(14 + 20 + icmp.size());
                memcpy(fr.data(), link.dev[0].mac().b, 6);
                memcpy(fr.data() + 6, link.dev[1].mac().b, 6);
                store_be16(fr.data() + 12, kEtherIpv4);
                uint8_t* ip = fr.data() + 14;
                ip[0] = 0x45;
                store_be16(ip + 2, static_cast<uint16_t>(20 + icmp.size()));
                ip[8] = 64;
                ip[9] = kProtoIcmp;
                const uint8_t router[4] = {10, 0, 0, 2};
                memcpy(ip + 12, router, 4);
                memcpy(ip + 16, f.data.data() + 14 + 12, 4);
                store_be16(ip + 10, internet_checksum(ip, 20));
                memcpy(ip + 20, icmp.data(), icmp.size());
                link.inject(0, fr);
            }
            too_big.clear();
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
    EXPECT_EQ(static_cast<TcpSocket*>(c)->mss, 960);
    c->close();
    s->close();
    lsock->close();
}

TEST_F(NetTcp, FastRetransmitFromAnAcceptedSocket) {
    // The same as above with the accepted side sending: its NewReno state
    // starts from the listener's handshake, not from connect().
    Socket *c, *s;
    connect_pair(&c, &s);
    int one = 1;
    ASSERT_TRUE(s->set_option(kSolTcp, kTcpNodelay, Span<const uint8_t>((uint8_t*)&one, 4)).ok());
    int seen = 0;
    link.drop_if = [&](const Frame& f) {
        if (f.from == 1 && tcp_of(f) && tcp_payload_len(f) > 0) return ++seen == 3;
        return false;
    };
    uint64_t t0 = link.now;
    auto d = pattern(40000, 41);
    EXPECT_EQ(transfer(b, s, c, d, 5 * kSec), d);
    EXPECT_LT(link.now - t0, 150 * kMs);
    EXPECT_LT(static_cast<TcpSocket*>(s)->ssthresh, 0xffffffffu);
    c->close();
    s->close();
    lsock->close();
}

TEST_F(NetTcp, SackResendsSeveralHolesInOneRoundTrip) {
    Socket *c, *s;
    connect_pair(&c, &s);
    auto* ct = static_cast<TcpSocket*>(c);
    ASSERT_TRUE(ct->sack_ok);
    ASSERT_TRUE(static_cast<TcpSocket*>(s)->sack_ok);
    int nodelay = 1;
    ASSERT_TRUE(
        c->set_option(kSolTcp, kTcpNodelay, Span<const uint8_t>((uint8_t*)&nodelay, 4)).ok());
    // Lose data segments 3, 5 and 7 once each.
    std::vector<uint32_t> lost;
    int seen = 0;
    link.drop_if = [&](const Frame& f) {
        const uint8_t* t = tcp_of(f);
        if (f.from != 0 || !t || tcp_payload_len(f) == 0) return false;
        ++seen;
        if (seen == 3 || seen == 5 || seen == 7) {
            lost.push_back(load_be32(t + 4));
            return true;
        }
        return false;
    };
    auto d = pattern(14600, 51);
    size_t mark = link.sent.size();
    EXPECT_EQ(transfer(a, c, s, d, 5 * kSec), d);
    ASSERT_EQ(lost.size(), 3u);
    // When each lost segment went again: all three within one round trip
    // (200 us here), where NewReno alone needs one round trip per hole.
    std::vector<uint64_t> when;
    for (uint32_t seq : lost) {
        int copies = 0;
        for (size_t i = mark; i < link.sent.size(); ++i) {
            const Frame& f = link.sent[i];
            const uint8_t* t = tcp_of(f);
            if (f.from == 0 && t && tcp_payload_len(f) > 0 && load_be32(t + 4) == seq &&
                ++copies == 2)
                when.push_back(f.at);
        }
    }
    ASSERT_EQ(when.size(), 3u);
    uint64_t lo = *std::min_element(when.begin(), when.end());
    uint64_t hi = *std::max_element(when.begin(), when.end());
    EXPECT_LT(hi - lo, 200000u);
    EXPECT_EQ(ct->total_retrans, 3u);
    c->close();
    s->close();
    lsock->close();
}
