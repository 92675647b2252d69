// kernel/net's TCP over a simulated link: handshake, data, resets,
// closing from either side, TIME-WAIT, the listen backlog, options,
// Nagle, delayed ACKs and loopback.
#define KILN_HOSTED_NEW 1  // <new> comes with gtest
#include "net_tcp_fixture.h"

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
    EXPECT_EQ((syn[12] >> 4) * 4, 32);  // MSS, window scale, SACK-permitted
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

TEST_F(NetTcp, CorkHoldsPartialSegmentsAtMost200ms) {
    Socket *c, *s;
    connect_pair(&c, &s);
    int one = 1, zero = 0;
    ASSERT_TRUE(c->set_option(kSolTcp, kTcpCork, Span<const uint8_t>((uint8_t*)&one, 4)).ok());
    a->set_now(link.now);
    ASSERT_TRUE(c->send(Span<const uint8_t>((const uint8_t*)"head", 4), 0, nullptr).ok());
    link.run_for(100 * kMs);
    EXPECT_EQ(s->readable_bytes(), 0u);  // held by the cork
    link.run_for(150 * kMs);
    EXPECT_EQ(s->readable_bytes(), 4u);  // sent after 200 ms
    // Uncorking sends at once.
    a->set_now(link.now);
    ASSERT_TRUE(c->send(Span<const uint8_t>((const uint8_t*)"body", 4), 0, nullptr).ok());
    link.run_for(kMs);
    EXPECT_EQ(s->readable_bytes(), 4u);
    ASSERT_TRUE(c->set_option(kSolTcp, kTcpCork, Span<const uint8_t>((uint8_t*)&zero, 4)).ok());
    link.run_for(kMs);
    EXPECT_EQ(s->readable_bytes(), 8u);
    c->close();
    s->close();
    lsock->close();
}
