// kernel/net's TCP over a simulated link: handshake, data, loss and
// retransmission, reordering, windows, resets, closing, TIME-WAIT, the
// listen backlog and loopback.
#define KILN_HOSTED_NEW 1  // <new> comes with gtest
#include <gtest/gtest.h>
#include <string.h>

#include <string>
#include <vector>

#include "kiln/byteorder.h"
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

// The TCP header of an IPv4 frame, or nullptr.
const uint8_t* tcp_of(const Frame& f) {
    if (f.data.size() < 54 || load_be16(f.data.data() + 12) != kEtherIpv4) return nullptr;
    const uint8_t* ip = f.data.data() + 14;
    if (ip[9] != kProtoTcp) return nullptr;
    return ip + (ip[0] & 15) * 4;
}
size_t tcp_payload_len(const Frame& f) {
    const uint8_t* ip = f.data.data() + 14;
    const uint8_t* t = tcp_of(f);
    return load_be16(ip + 2) - (ip[0] & 15) * 4 - (t[12] >> 4) * 4;
}

}  // namespace

class NetTcp : public ::testing::Test {
protected:
    void SetUp() override {
        a = Stack::create();
        b = Stack::create();
        ASSERT_NE(a, nullptr);
        ASSERT_NE(b, nullptr);
        ia = link.attach(0, a);
        ib = link.attach(1, b);
        kiln_test::config_v4(a, ia, 1);
        kiln_test::config_v4(b, ib, 2);
    }
    void TearDown() override {
        mm::destroy(a);
        mm::destroy(b);
    }
    Socket* tcp(Stack* s) {
        s->set_now(link.now);
        auto r = s->socket(kAfInet, kSockStream, 0);
        EXPECT_TRUE(r.ok());
        return *r;
    }
    Socket* listener(Stack* s, uint16_t port, int backlog = 16) {
        Socket* l = tcp(s);
        EXPECT_TRUE(l->bind(v4addr(0, 0, 0, 0, port)).ok());
        EXPECT_TRUE(l->listen(backlog).ok());
        return l;
    }
    // A connected pair: client on a, server (accepted) on b.
    void connect_pair(Socket** client, Socket** server, uint16_t port = 80) {
        lsock = listener(b, port);
        Socket* c = tcp(a);
        EXPECT_EQ(c->connect(v4addr(10, 0, 0, 2, port)).error(), Errno::kEINPROGRESS);
        Socket* s = nullptr;
        ASSERT_TRUE(link.run_until(
            [&] {
                b->set_now(link.now);
                auto r = lsock->accept(nullptr);
                if (r.ok()) s = *r;
                return s != nullptr && (c->poll_events() & fs::kPollOut);
            },
            5 * kSec));
        *client = c;
        *server = s;
    }
    // Sends all of `data` from `from` (on stack fs) and reads it at `to`.
    std::vector<uint8_t> transfer(Stack* fs, Socket* from, Socket* to,
                                  const std::vector<uint8_t>& data, uint64_t max_ns = 600 * kSec) {
        std::vector<uint8_t> got;
        size_t off = 0;
        std::vector<uint8_t> buf(65536);
        link.run_until(
            [&] {
                fs->set_now(link.now);
                while (off < data.size()) {
                    auto r = from->send(Span<const uint8_t>(data.data() + off, data.size() - off),
                                        0, nullptr);
                    if (!r.ok()) break;
                    off += *r;
                }
                for (;;) {
                    auto r = to->recv(Span<uint8_t>(buf.data(), buf.size()), 0, nullptr, nullptr);
                    if (!r.ok() || *r == 0) break;
                    got.insert(got.end(), buf.begin(), buf.begin() + *r);
                }
                return got.size() >= data.size();
            },
            max_ns);
        return got;
    }
    static std::vector<uint8_t> pattern(size_t n, uint32_t seed) {
        std::vector<uint8_t> v(n);
        for (auto& x : v) {
            seed = seed * 1664525 + 1013904223;
            x = static_cast<uint8_t>(seed >> 24);
        }
        return v;
    }
    TcpState state(Socket* s) { return static_cast<TcpSocket*>(s)->state; }

    NetLink link;
    Stack* a = nullptr;
    Stack* b = nullptr;
    Interface* ia = nullptr;
    Interface* ib = nullptr;
    Socket* lsock = nullptr;
};

TEST_F(NetTcp, HandshakeWithMssAndWindowScale) {
    Socket *c, *s;
    connect_pair(&c, &s);
    ASSERT_NE(s, nullptr);
    EXPECT_EQ(state(c), TcpState::kEstablished);
    EXPECT_EQ(state(s), TcpState::kEstablished);
    EXPECT_EQ(c->take_error(), 0);
    // The SYN carried MSS 1460 and a window scale.
    const uint8_t* syn = nullptr;
    for (const Frame& f : link.sent) {
        const uint8_t* t = tcp_of(f);
        if (t != nullptr && (t[13] & kSyn) && !(t[13] & kAck)) {
            syn = t;
            break;
        }
    }
    ASSERT_NE(syn, nullptr);
    EXPECT_EQ((syn[12] >> 4) * 4, 28);
    EXPECT_EQ(syn[20], 2);
    EXPECT_EQ(load_be16(syn + 22), 1460);
    EXPECT_EQ(syn[25], 3);
    auto* ct = static_cast<TcpSocket*>(c);
    EXPECT_EQ(ct->mss, 1460);
    EXPECT_TRUE(ct->wscale_ok);
    SockAddr peer, local;
    ASSERT_TRUE(s->peer_name(&peer).ok());
    ASSERT_TRUE(c->local_name(&local).ok());
    EXPECT_EQ(peer.port, local.port);
    EXPECT_EQ(peer.addr[3], 1);
    c->close();
    s->close();
    lsock->close();
}

TEST_F(NetTcp, DataBothWays) {
    Socket *c, *s;
    connect_pair(&c, &s);
    auto d1 = pattern(100000, 1);
    EXPECT_EQ(transfer(a, c, s, d1), d1);
    auto d2 = pattern(77777, 2);
    EXPECT_EQ(transfer(b, s, c, d2), d2);
    c->close();
    s->close();
    lsock->close();
}

TEST_F(NetTcp, DataWithChecksumOffload) {
    NetLink off(true);
    Stack* x = Stack::create();
    Stack* y = Stack::create();
    kiln_test::config_v4(x, off.attach(0, x), 1);
    kiln_test::config_v4(y, off.attach(1, y), 2);
    y->set_now(off.now);
    Socket* l = *y->socket(kAfInet, kSockStream, 0);
    ASSERT_TRUE(l->bind(v4addr(0, 0, 0, 0, 80)).ok());
    ASSERT_TRUE(l->listen(4).ok());
    Socket* c = *x->socket(kAfInet, kSockStream, 0);
    EXPECT_EQ(c->connect(v4addr(10, 0, 0, 2, 80)).error(), Errno::kEINPROGRESS);
    Socket* s = nullptr;
    ASSERT_TRUE(off.run_until(
        [&] {
            auto r = l->accept(nullptr);
            if (r.ok()) s = *r;
            return s != nullptr;
        },
        kSec));
    const char* msg = "offloaded";
    x->set_now(off.now);
    ASSERT_TRUE(c->send(Span<const uint8_t>((const uint8_t*)msg, 9), 0, nullptr).ok());
    ASSERT_TRUE(off.run_until([&] { return s->readable_bytes() == 9; }, kSec));
    c->close();
    s->close();
    l->close();
    mm::destroy(x);
    mm::destroy(y);
}

TEST_F(NetTcp, RstOnConnectToClosedPort) {
    Socket* c = tcp(a);
    EXPECT_EQ(c->connect(v4addr(10, 0, 0, 2, 81)).error(), Errno::kEINPROGRESS);
    EXPECT_EQ(c->connect(v4addr(10, 0, 0, 2, 81)).error(), Errno::kEALREADY);
    ASSERT_TRUE(link.run_until([&] { return state(c) == TcpState::kClosed; }, kSec));
    EXPECT_TRUE(c->poll_events() & fs::kPollErr);
    EXPECT_EQ(c->take_error(), static_cast<int>(Errno::kECONNREFUSED));
    c->close();
}

TEST_F(NetTcp, ConnectTimesOutWithoutPeer) {
    Socket* c = tcp(a);
    link.cut = true;
    int two = 2;
    ASSERT_TRUE(c->set_option(kSolTcp, kTcpSyncnt, Span<const uint8_t>((uint8_t*)&two, 4)).ok());
    EXPECT_EQ(c->connect(v4addr(10, 0, 0, 2, 80)).error(), Errno::kEINPROGRESS);
    ASSERT_TRUE(link.run_until([&] { return state(c) == TcpState::kClosed; }, 60 * kSec));
    EXPECT_EQ(c->take_error(), static_cast<int>(Errno::kETIMEDOUT));
    c->close();
}

TEST_F(NetTcp, AbortSendsRst) {
    Socket *c, *s;
    connect_pair(&c, &s);
    int lin[2] = {1, 0};
    ASSERT_TRUE(c->set_option(kSolSocket, kSoLinger, Span<const uint8_t>((uint8_t*)lin, 8)).ok());
    a->set_now(link.now);
    c->close();
    ASSERT_TRUE(link.run_until([&] { return state(s) == TcpState::kClosed; }, kSec));
    uint8_t buf[8];
    EXPECT_EQ(s->recv(Span<uint8_t>(buf, 8), 0, nullptr, nullptr).error(), Errno::kECONNRESET);
    // Then EPIPE on writing.
    EXPECT_EQ(s->send(Span<const uint8_t>(buf, 1), 0, nullptr).error(), Errno::kEPIPE);
    s->close();
    lsock->close();
}

TEST_F(NetTcp, CloseWithUnreadDataSendsRst) {
    Socket *c, *s;
    connect_pair(&c, &s);
    ASSERT_TRUE(c->send(Span<const uint8_t>((const uint8_t*)"abc", 3), 0, nullptr).ok());
    ASSERT_TRUE(link.run_until([&] { return s->readable_bytes() == 3; }, kSec));
    b->set_now(link.now);
    s->close();
    ASSERT_TRUE(link.run_until([&] { return state(c) == TcpState::kClosed; }, kSec));
    EXPECT_EQ(c->take_error(), static_cast<int>(Errno::kECONNRESET));
    c->close();
    lsock->close();
}

TEST_F(NetTcp, FinFromClientThenServer) {
    Socket *c, *s;
    connect_pair(&c, &s);
    ASSERT_TRUE(c->shutdown(kShutWr).ok());
    ASSERT_TRUE(link.run_until(
        [&] { return state(s) == TcpState::kCloseWait && state(c) == TcpState::kFinWait2; }, kSec));
    uint8_t buf[8];
    EXPECT_EQ(*s->recv(Span<uint8_t>(buf, 8), 0, nullptr, nullptr), 0u);  // end of stream
    EXPECT_TRUE(s->poll_events() & fs::kPollRdHup);
    EXPECT_EQ(state(c), TcpState::kFinWait2);
    // The half-open direction still carries data.
    ASSERT_TRUE(s->send(Span<const uint8_t>((const uint8_t*)"late", 4), 0, nullptr).ok());
    ASSERT_TRUE(link.run_until([&] { return c->readable_bytes() == 4; }, kSec));
    EXPECT_EQ(c->send(Span<const uint8_t>(buf, 1), 0, nullptr).error(), Errno::kEPIPE);
    b->set_now(link.now);
    s->close();
    ASSERT_TRUE(link.run_until([&] { return state(c) == TcpState::kTimeWait; }, kSec));
    // The server side ended without TIME-WAIT (it closed second); it was
    // freed by the stack. The client's TIME-WAIT ends after 2*MSL.
    link.run_for(59 * kSec);
    EXPECT_EQ(state(c), TcpState::kTimeWait);
    link.run_for(2 * kSec);
    EXPECT_EQ(state(c), TcpState::kClosed);
    c->close();
    lsock->close();
}

TEST_F(NetTcp, FinFromServerFirst) {
    Socket *c, *s;
    connect_pair(&c, &s);
    b->set_now(link.now);
    s->close();
    ASSERT_TRUE(link.run_until([&] { return state(c) == TcpState::kCloseWait; }, kSec));
    a->set_now(link.now);
    c->close();
    link.run_for(kSec);
    // The server (closed first, now owned by its stack) is in TIME-WAIT.
    bool tw = false;
    for (InetSocket* x = static_cast<StackImpl*>(b)->tcp_list; x; x = x->list_next)
        if (static_cast<TcpSocket*>(x)->state == TcpState::kTimeWait) tw = true;
    EXPECT_TRUE(tw);
    link.run_for(61 * kSec);
    for (InetSocket* x = static_cast<StackImpl*>(b)->tcp_list; x; x = x->list_next)
        EXPECT_EQ(static_cast<TcpSocket*>(x)->state, TcpState::kListen);
    lsock->close();
}

TEST_F(NetTcp, SimultaneousClose) {
    Socket *c, *s;
    connect_pair(&c, &s);
    a->set_now(link.now);
    ASSERT_TRUE(c->shutdown(kShutWr).ok());
    b->set_now(link.now);
    ASSERT_TRUE(s->shutdown(kShutWr).ok());  // both FINs cross on the wire
    ASSERT_TRUE(link.run_until(
        [&] { return state(c) == TcpState::kTimeWait && state(s) == TcpState::kTimeWait; }, kSec));
    link.run_for(61 * kSec);
    EXPECT_EQ(state(c), TcpState::kClosed);
    EXPECT_EQ(state(s), TcpState::kClosed);
    c->close();
    s->close();
    lsock->close();
}

TEST_F(NetTcp, SimultaneousOpen) {
    Socket* x = tcp(a);
    Socket* y = tcp(b);
    ASSERT_TRUE(x->bind(v4addr(0, 0, 0, 0, 1111)).ok());
    ASSERT_TRUE(y->bind(v4addr(0, 0, 0, 0, 2222)).ok());
    // Resolve ARP first so both SYNs really cross.
    Socket* u = *a->socket(kAfInet, kSockDgram, 0);
    SockAddr nine = v4addr(10, 0, 0, 2, 9);
    ASSERT_TRUE(u->send(Span<const uint8_t>((const uint8_t*)"x", 1), 0, &nine).ok());
    link.run_for(10 * kMs);
    u->close();
    EXPECT_EQ(x->connect(v4addr(10, 0, 0, 2, 2222)).error(), Errno::kEINPROGRESS);
    EXPECT_EQ(y->connect(v4addr(10, 0, 0, 1, 1111)).error(), Errno::kEINPROGRESS);
    // Established after the SYNs and SYN-ACKs crossed, no retransmission.
    link.run_for(kMs);
    EXPECT_EQ(state(x), TcpState::kEstablished);
    EXPECT_EQ(state(y), TcpState::kEstablished);
    auto d = pattern(5000, 9);
    EXPECT_EQ(transfer(a, x, y, d), d);
    x->close();
    y->close();
}

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

TEST_F(NetTcp, ListenBacklogOverflow) {
    lsock = listener(b, 80, 2);
    std::vector<Socket*> cs;
    for (int i = 0; i < 5; ++i) {
        Socket* c = tcp(a);
        EXPECT_EQ(c->connect(v4addr(10, 0, 0, 2, 80)).error(), Errno::kEINPROGRESS);
        cs.push_back(c);
    }
    link.run_for(500 * kMs);
    auto* l = static_cast<TcpSocket*>(lsock);
    EXPECT_EQ(l->nacc, 2);  // the accept queue holds the backlog, no more
    // Accepting makes room; the others get in on their SYN retransmissions.
    std::vector<Socket*> ss;
    ASSERT_TRUE(link.run_until(
        [&] {
            b->set_now(link.now);
            for (;;) {
                auto r = lsock->accept(nullptr);
                if (!r.ok()) break;
                ss.push_back(*r);
            }
            return ss.size() == 5;
        },
        30 * kSec));
    for (Socket* c : cs) EXPECT_EQ(state(c), TcpState::kEstablished);
    for (Socket* c : cs) c->close();
    for (Socket* s : ss) s->close();
    lsock->close();
}

TEST_F(NetTcp, ReuseAddrAfterTimeWait) {
    Socket *c, *s;
    connect_pair(&c, &s, 8080);
    b->set_now(link.now);
    s->close();  // the server closes first: its side sits in TIME-WAIT
    ASSERT_TRUE(link.run_until([&] { return state(c) == TcpState::kCloseWait; }, kSec));
    c->close();
    link.run_for(kSec);
    lsock->close();
    Socket* l2 = tcp(b);
    EXPECT_EQ(l2->bind(v4addr(0, 0, 0, 0, 8080)).error(), Errno::kEADDRINUSE);
    int one = 1;
    ASSERT_TRUE(
        l2->set_option(kSolSocket, kSoReuseaddr, Span<const uint8_t>((uint8_t*)&one, 4)).ok());
    EXPECT_TRUE(l2->bind(v4addr(0, 0, 0, 0, 8080)).ok());
    EXPECT_TRUE(l2->listen(4).ok());
    l2->close();
}

TEST_F(NetTcp, KeepaliveDetectsDeadPeer) {
    Socket *c, *s;
    connect_pair(&c, &s);
    int one = 1, idle = 10, intvl = 2, cnt = 3;
    ASSERT_TRUE(c->set_option(kSolTcp, kTcpKeepidle, Span<const uint8_t>((uint8_t*)&idle, 4)).ok());
    ASSERT_TRUE(
        c->set_option(kSolTcp, kTcpKeepintvl, Span<const uint8_t>((uint8_t*)&intvl, 4)).ok());
    ASSERT_TRUE(c->set_option(kSolTcp, kTcpKeepcnt, Span<const uint8_t>((uint8_t*)&cnt, 4)).ok());
    ASSERT_TRUE(
        c->set_option(kSolSocket, kSoKeepalive, Span<const uint8_t>((uint8_t*)&one, 4)).ok());
    // A live peer answers the probes.
    link.run_for(30 * kSec);
    EXPECT_EQ(state(c), TcpState::kEstablished);
    link.cut = true;
    link.run_for(30 * kSec);
    EXPECT_EQ(state(c), TcpState::kClosed);
    EXPECT_EQ(c->take_error(), static_cast<int>(Errno::kETIMEDOUT));
    c->close();
    s->close();
    lsock->close();
}

TEST_F(NetTcp, NagleHoldsSmallSegmentsUntilAcked) {
    Socket *c, *s;
    connect_pair(&c, &s);
    size_t mark = link.sent.size();
    a->set_now(link.now);
    for (int i = 0; i < 10; ++i)
        ASSERT_TRUE(c->send(Span<const uint8_t>((const uint8_t*)"x", 1), 0, nullptr).ok());
    int segs = 0;
    for (const Frame& f : link.frames_from(0, mark))
        if (tcp_of(f) && tcp_payload_len(f) > 0) segs++;
    EXPECT_EQ(segs, 1);  // one in flight, nine held
    ASSERT_TRUE(link.run_until([&] { return s->readable_bytes() == 10; }, kSec));
    // With TCP_NODELAY each write goes at once.
    int one = 1;
    ASSERT_TRUE(c->set_option(kSolTcp, kTcpNodelay, Span<const uint8_t>((uint8_t*)&one, 4)).ok());
    mark = link.sent.size();
    a->set_now(link.now);
    for (int i = 0; i < 10; ++i)
        ASSERT_TRUE(c->send(Span<const uint8_t>((const uint8_t*)"y", 1), 0, nullptr).ok());
    segs = 0;
    for (const Frame& f : link.frames_from(0, mark))
        if (tcp_of(f) && tcp_payload_len(f) > 0) segs++;
    EXPECT_EQ(segs, 10);
    c->close();
    s->close();
    lsock->close();
}

TEST_F(NetTcp, DelayedAckEverySecondSegment) {
    Socket *c, *s;
    connect_pair(&c, &s);
    auto d = pattern(1460 * 20, 8);
    size_t mark = link.sent.size();
    EXPECT_EQ(transfer(a, c, s, d, 2 * kSec), d);
    int data = 0, acks = 0;
    for (const Frame& f : link.sent) {
        (void)f;
    }
    for (size_t i = mark; i < link.sent.size(); ++i) {
        const Frame& f = link.sent[i];
        if (!tcp_of(f)) continue;
        if (f.from == 0 && tcp_payload_len(f) > 0) data++;
        if (f.from == 1 && tcp_payload_len(f) == 0) acks++;
    }
    EXPECT_EQ(data, 20);
    EXPECT_LE(acks, 12);
    EXPECT_GE(acks, 10);
    c->close();
    s->close();
    lsock->close();
}

TEST_F(NetTcp, LoopbackConnectInsideOneStack) {
    Socket* l = tcp(a);
    ASSERT_TRUE(l->bind(v4addr(127, 0, 0, 1, 9000)).ok());
    ASSERT_TRUE(l->listen(8).ok());
    Socket* c = tcp(a);
    size_t mark = link.sent.size();
    EXPECT_EQ(c->connect(v4addr(127, 0, 0, 1, 9000)).error(), Errno::kEINPROGRESS);
    // The handshake completed on the way out of connect().
    EXPECT_TRUE(c->poll_events() & fs::kPollOut);
    EXPECT_TRUE(l->poll_events() & fs::kPollIn);
    SockAddr peer;
    auto r = l->accept(&peer);
    ASSERT_TRUE(r.ok());
    Socket* s = *r;
    EXPECT_EQ(peer.addr[0], 127);
    auto d = pattern(1 << 20, 13);
    std::vector<uint8_t> got;
    std::vector<uint8_t> buf(100000);
    size_t off = 0;
    for (int i = 0; i < 100000 && got.size() < d.size(); ++i) {
        auto w = c->send(Span<const uint8_t>(d.data() + off, d.size() - off), 0, nullptr);
        if (w.ok()) off += *w;
        auto rr = s->recv(Span<uint8_t>(buf.data(), buf.size()), 0, nullptr, nullptr);
        if (rr.ok()) got.insert(got.end(), buf.begin(), buf.begin() + *rr);
        if (!w.ok() && !rr.ok()) link.run_for(kMs);  // timers (delayed ACK)
    }
    EXPECT_TRUE(got == d);
    EXPECT_EQ(link.sent.size(), mark);  // nothing touched the wire
    c->close();
    s->close();
    l->close();
    link.run_for(70 * kSec);
    EXPECT_EQ(static_cast<StackImpl*>(a)->tcp_list, nullptr);
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

TEST_F(NetTcp, TcpInfoAndOptionsRoundTrip) {
    Socket *c, *s;
    connect_pair(&c, &s);
    uint8_t ti[232] = {};
    auto n = c->get_option(kSolTcp, kTcpInfo, Span<uint8_t>(ti, sizeof ti));
    ASSERT_TRUE(n.ok());
    EXPECT_EQ(*n, 104u);
    EXPECT_EQ(ti[0], 1);  // TCP_ESTABLISHED
    uint32_t snd_mss;
    memcpy(&snd_mss, ti + 16, 4);
    EXPECT_EQ(snd_mss, 1460u);
    // Every option the census lists is accepted; stored ones read back.
    int one = 1, sixty = 60;
    auto set = [&](int level, int name, int v) {
        return c->set_option(level, name, Span<const uint8_t>((uint8_t*)&v, 4)).ok();
    };
    auto get = [&](int level, int name) {
        int v = -1;
        EXPECT_TRUE(c->get_option(level, name, Span<uint8_t>((uint8_t*)&v, 4)).ok());
        return v;
    };
    EXPECT_TRUE(set(kSolTcp, kTcpCork, 1));
    EXPECT_EQ(get(kSolTcp, kTcpCork), 1);
    EXPECT_TRUE(set(kSolTcp, kTcpCork, 0));
    EXPECT_TRUE(set(kSolTcp, kTcpNodelay, one));
    EXPECT_EQ(get(kSolTcp, kTcpNodelay), 1);
    EXPECT_TRUE(set(kSolSocket, kSoKeepalive, 1));
    EXPECT_TRUE(set(kSolTcp, kTcpKeepidle, sixty));
    EXPECT_TRUE(set(kSolTcp, kTcpKeepintvl, 10));
    EXPECT_TRUE(set(kSolTcp, kTcpKeepcnt, 5));
    EXPECT_EQ(get(kSolTcp, kTcpKeepidle), 60);
    EXPECT_EQ(get(kSolTcp, kTcpKeepcnt), 5);
    EXPECT_TRUE(set(kSolSocket, kSoReuseaddr, 1));
    EXPECT_EQ(get(kSolSocket, kSoReuseaddr), 1);
    EXPECT_TRUE(set(kSolTcp, kTcpDeferAccept, 5));
    EXPECT_EQ(get(kSolTcp, kTcpDeferAccept), 5);
    EXPECT_EQ(get(kSolSocket, kSoType), kSockStream);
    EXPECT_EQ(get(kSolSocket, kSoError), 0);
    EXPECT_EQ(get(kSolSocket, kSoAcceptconn), 0);
    EXPECT_FALSE(set(kSolTcp, kTcpKeepidle, 0));  // EINVAL
    EXPECT_EQ(c->set_option(kSolTcp, 9999, Span<const uint8_t>((uint8_t*)&one, 4)).error(),
              Errno::kENOPROTOOPT);
    EXPECT_EQ(
        c->set_option(kSolSocket, kSoReuseaddr, Span<const uint8_t>((uint8_t*)&one, 2)).error(),
        Errno::kEINVAL);
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
