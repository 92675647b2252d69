// kernel/net/unix on the host: AF_UNIX stream and datagram sockets, names
// in the tree and the abstract namespace, listen/accept/connect, shutdown,
// end of file and EPIPE, bounded queues, SO_PEERCRED and SCM_RIGHTS
// (unix(7), with Linux's errors).
#define KILN_HOSTED_NEW 1  // <new> comes with gtest
#include <gtest/gtest.h>
#include <string.h>

#include <string>
#include <vector>

#include "fs/file.h"
#include "fs/path.h"
#include "fs/tree.h"
#include "fs_test_support.h"
#include "mm/new.h"
#include "net/api.h"
#include "net/unix.h"

using namespace kiln;
using namespace kiln::net;

namespace {

UnixAddr path_addr(const char* p) {
    UnixAddr a;
    a.len = static_cast<uint8_t>(strlen(p));
    memcpy(a.path, p, a.len);
    return a;
}

UnixAddr abstract_addr(const char* name) {
    UnixAddr a;
    a.path[0] = '\0';
    memcpy(a.path + 1, name, strlen(name));
    a.len = static_cast<uint8_t>(1 + strlen(name));
    return a;
}

Span<const uint8_t> bytes(const char* s) {
    return Span<const uint8_t>(reinterpret_cast<const uint8_t*>(s), strlen(s));
}

// A dummy inode for descriptors passed with SCM_RIGHTS.
class Dummy final : public fs::Inode {
public:
    explicit Dummy(int* freed) : freed_(freed) {}
    fs::InodeType type() const override { return fs::InodeType::kCharDevice; }
    uint64_t size() const override { return 0; }
    Result<size_t> read_at(uint64_t, void*, size_t) override { return size_t{0}; }

protected:
    void on_last_release() override {
        (*freed_)++;
        mm::destroy(this);
    }

private:
    int* freed_;
};

class UnixTest : public ::testing::Test {
protected:
    void SetUp() override {
        kiln_test::use_malloc_heap();
        root_ = mm::make<fs::Directory>(nullptr);
        ctx_.root = root_;
        ctx_.cwd = root_;
        cred_ = UnixCred{7, 1000, 100};
    }
    void TearDown() override {
        for (UnixSocket* s : open_) s->close();
        root_->release();
    }
    UnixSocket* make(int type) {
        UnixSocket* s = UnixSocket::create(type, cred_);
        open_.push_back(s);
        return s;
    }
    UnixSocket* keep(UnixSocket* s) {
        open_.push_back(s);
        return s;
    }
    void close(UnixSocket* s) {
        for (auto it = open_.begin(); it != open_.end(); ++it) {
            if (*it == s) {
                open_.erase(it);
                break;
            }
        }
        s->close();
    }
    std::string recv_str(UnixSocket* s, size_t cap = 256, int flags = 0, Errno* e = nullptr) {
        std::vector<uint8_t> buf(cap);
        auto r = s->recv(Span<uint8_t>(buf.data(), buf.size()), flags, nullptr, nullptr, nullptr);
        if (!r.ok()) {
            if (e) *e = r.error();
            return "<" + std::string(errno_name(r.error())) + ">";
        }
        return std::string(reinterpret_cast<char*>(buf.data()), *r);
    }
    Errno err(Result<void> r) { return r.ok() ? Errno(0) : r.error(); }
    template <typename T>
    Errno err(const Result<T>& r) {
        return r.ok() ? Errno(0) : r.error();
    }

    fs::Directory* root_ = nullptr;
    fs::FsContext ctx_;
    UnixCred cred_;
    std::vector<UnixSocket*> open_;
};

TEST_F(UnixTest, StreamPairCarriesBytesBothWays) {
    UnixSocket *a, *b;
    ASSERT_TRUE(UnixSocket::pair(kSockStream, cred_, &a, &b).ok());
    keep(a);
    keep(b);
    EXPECT_EQ(a->poll_events() & fs::kPollIn, 0u);
    EXPECT_NE(a->poll_events() & fs::kPollOut, 0u);
    ASSERT_EQ(*a->send(bytes("hello "), 0, nullptr, nullptr), 6u);
    ASSERT_EQ(*a->send(bytes("world"), 0, nullptr, nullptr), 5u);
    EXPECT_NE(b->poll_events() & fs::kPollIn, 0u);
    EXPECT_EQ(b->readable_bytes(), 11u);
    EXPECT_EQ(a->unsent_bytes(), 11u);
    EXPECT_EQ(recv_str(b, 256, kMsgPeek), "hello world");
    EXPECT_EQ(recv_str(b, 3), "hel");
    EXPECT_EQ(recv_str(b), "lo world");
    Errno e{};
    EXPECT_EQ(recv_str(b, 256, 0, &e), "<EAGAIN>");
    ASSERT_EQ(*b->send(bytes("back"), 0, nullptr, nullptr), 4u);
    EXPECT_EQ(recv_str(a), "back");
    EXPECT_EQ(a->peer_cred().pid, 7);
    EXPECT_EQ(a->peer_cred().uid, 1000u);
}

TEST_F(UnixTest, StreamCloseGivesEofThenEpipe) {
    UnixSocket *a, *b;
    ASSERT_TRUE(UnixSocket::pair(kSockStream, cred_, &a, &b).ok());
    keep(b);
    ASSERT_EQ(*a->send(bytes("last"), 0, nullptr, nullptr), 4u);
    a->close();
    uint32_t ev = b->poll_events();
    EXPECT_NE(ev & fs::kPollHup, 0u);
    EXPECT_NE(ev & fs::kPollRdHup, 0u);
    EXPECT_NE(ev & fs::kPollIn, 0u);
    EXPECT_EQ(recv_str(b), "last");
    EXPECT_EQ(recv_str(b), "");  // end of file
    EXPECT_EQ(err(b->send(bytes("x"), 0, nullptr, nullptr)), Errno::kEPIPE);
}

TEST_F(UnixTest, CloseWithUnreadDataResetsThePeer) {
    UnixSocket *a, *b;
    ASSERT_TRUE(UnixSocket::pair(kSockStream, cred_, &a, &b).ok());
    keep(b);
    ASSERT_TRUE(b->send(bytes("unread"), 0, nullptr, nullptr).ok());
    a->close();
    EXPECT_NE(b->poll_events() & fs::kPollErr, 0u);
    Errno e{};
    recv_str(b, 16, 0, &e);
    EXPECT_EQ(e, Errno::kECONNRESET);
    EXPECT_EQ(recv_str(b), "");
}

TEST_F(UnixTest, ShutdownWriteIsEofForThePeer) {
    UnixSocket *a, *b;
    ASSERT_TRUE(UnixSocket::pair(kSockStream, cred_, &a, &b).ok());
    keep(a);
    keep(b);
    ASSERT_TRUE(a->shutdown(kShutWr).ok());
    EXPECT_EQ(err(a->send(bytes("x"), 0, nullptr, nullptr)), Errno::kEPIPE);
    EXPECT_NE(b->poll_events() & fs::kPollRdHup, 0u);
    EXPECT_EQ(b->poll_events() & fs::kPollHup, 0u);
    EXPECT_EQ(recv_str(b), "");
    // The other direction still works.
    ASSERT_TRUE(b->send(bytes("ok"), 0, nullptr, nullptr).ok());
    EXPECT_EQ(recv_str(a), "ok");
    EXPECT_EQ(err(a->shutdown(7)), Errno::kEINVAL);
}

TEST_F(UnixTest, StreamQueueIsBounded) {
    UnixSocket *a, *b;
    ASSERT_TRUE(UnixSocket::pair(kSockStream, cred_, &a, &b).ok());
    keep(a);
    keep(b);
    std::vector<uint8_t> big(100000, 'x');
    size_t total = 0;
    for (;;) {
        auto r = a->send(Span<const uint8_t>(big.data(), big.size()), 0, nullptr, nullptr);
        if (!r.ok()) {
            EXPECT_EQ(r.error(), Errno::kEAGAIN);
            break;
        }
        total += *r;
    }
    EXPECT_EQ(total, kUnixStreamBuf);
    EXPECT_EQ(a->poll_events() & fs::kPollOut, 0u);
    EXPECT_FALSE(a->can_send(nullptr, 1));
    std::vector<uint8_t> out(kUnixStreamBuf);
    auto r = b->recv(Span<uint8_t>(out.data(), out.size()), 0, nullptr, nullptr, nullptr);
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(*r, kUnixStreamBuf);
    EXPECT_NE(a->poll_events() & fs::kPollOut, 0u);
}

TEST_F(UnixTest, PathListenerAcceptsAndNamesBothEnds) {
    UnixSocket* srv = make(kSockStream);
    EXPECT_EQ(err(srv->listen(5)), Errno::kEINVAL);  // unbound
    ASSERT_TRUE(srv->bind(ctx_, root_, path_addr("/sock"), 0755).ok());
    EXPECT_EQ(err(srv->bind(ctx_, root_, path_addr("/sock2"), 0755)), Errno::kEINVAL);
    ASSERT_TRUE(srv->listen(1).ok());
    fs::Inode* node = root_->find(Span<const char>("sock", 4));
    ASSERT_NE(node, nullptr);
    EXPECT_EQ(node->type(), fs::InodeType::kSocket);

    UnixSocket* cli = make(kSockStream);
    auto target = UnixSocket::lookup(ctx_, root_, path_addr("/sock"));
    ASSERT_TRUE(target.ok());
    EXPECT_EQ(*target, srv);
    ASSERT_TRUE(cli->connect(*target).ok());
    (*target)->release();
    EXPECT_EQ(err(cli->connect(srv)), Errno::kEISCONN);
    EXPECT_NE(srv->poll_events() & fs::kPollIn, 0u);
    // The client may write before the server accepts.
    ASSERT_TRUE(cli->send(bytes("early"), 0, nullptr, nullptr).ok());
    auto acc = srv->accept();
    ASSERT_TRUE(acc.ok());
    UnixSocket* conn = keep(*acc);
    EXPECT_EQ(err(srv->accept()), Errno::kEAGAIN);
    EXPECT_EQ(recv_str(conn), "early");
    UnixAddr peer;
    ASSERT_TRUE(cli->peer_name(&peer).ok());
    EXPECT_EQ(std::string(peer.path, peer.len), "/sock");
    EXPECT_EQ(std::string(conn->local_name().path, conn->local_name().len), "/sock");
    EXPECT_EQ(conn->peer_cred().pid, 7);
}

TEST_F(UnixTest, BacklogFullIsEagainAndListenerCloseResets) {
    UnixSocket* srv = make(kSockStream);
    ASSERT_TRUE(srv->bind(ctx_, root_, abstract_addr("bl"), 0).ok());
    ASSERT_TRUE(srv->listen(0).ok());
    UnixSocket* c1 = make(kSockStream);
    UnixSocket* c2 = make(kSockStream);
    ASSERT_TRUE(c1->connect(srv).ok());  // backlog 0 still takes one
    EXPECT_FALSE(srv->backlog_has_room());
    EXPECT_EQ(err(c2->connect(srv)), Errno::kEAGAIN);
    close(srv);
    EXPECT_NE(c1->poll_events() & fs::kPollHup, 0u);
    Errno e{};
    recv_str(c1, 16, 0, &e);
    EXPECT_EQ(e, Errno::kECONNRESET);
    EXPECT_EQ(err(UnixSocket::lookup(ctx_, root_, abstract_addr("bl"))), Errno::kECONNREFUSED);
}

TEST_F(UnixTest, ConnectErrors) {
    UnixSocket* cli = make(kSockStream);
    EXPECT_EQ(err(UnixSocket::lookup(ctx_, root_, path_addr("/nope"))), Errno::kENOENT);
    EXPECT_EQ(err(UnixSocket::lookup(ctx_, root_, abstract_addr("nope"))), Errno::kECONNREFUSED);
    UnixSocket* bound = make(kSockStream);
    ASSERT_TRUE(bound->bind(ctx_, root_, path_addr("/notlistening"), 0755).ok());
    EXPECT_EQ(err(cli->connect(bound)), Errno::kECONNREFUSED);
    UnixSocket* dg = make(kSockDgram);
    ASSERT_TRUE(dg->bind(ctx_, root_, path_addr("/dg"), 0755).ok());
    EXPECT_EQ(err(cli->connect(dg)), Errno::kEPROTOTYPE);
    EXPECT_EQ(err(dg->listen(1)), Errno::kEOPNOTSUPP);
    // A second bind of a taken name.
    UnixSocket* other = make(kSockDgram);
    EXPECT_EQ(err(other->bind(ctx_, root_, path_addr("/dg"), 0755)), Errno::kEADDRINUSE);
    EXPECT_EQ(err(other->bind(ctx_, root_, path_addr("/missing/dir/s"), 0755)), Errno::kENOENT);
    // After close the node stays and refuses.
    close(bound);
    EXPECT_EQ(err(UnixSocket::lookup(ctx_, root_, path_addr("/notlistening"))),
              Errno::kECONNREFUSED);
    // Not connected.
    UnixSocket* fresh = make(kSockStream);
    EXPECT_EQ(err(fresh->send(bytes("x"), 0, nullptr, nullptr)), Errno::kENOTCONN);
    EXPECT_EQ(err(fresh->shutdown(kShutRdWr)), Errno(0));  // allowed, as on Linux
    UnixAddr p;
    EXPECT_EQ(err(fresh->peer_name(&p)), Errno::kENOTCONN);
    EXPECT_EQ(fresh->peer_cred().uid, ~0u);
}

TEST_F(UnixTest, AutobindPicksAnAbstractName) {
    UnixSocket* a = make(kSockDgram);
    ASSERT_TRUE(a->bind(ctx_, root_, UnixAddr{}, 0).ok());
    EXPECT_TRUE(a->local_name().abstract());
    EXPECT_EQ(a->local_name().len, 6);
    UnixSocket* b = make(kSockDgram);
    ASSERT_TRUE(b->bind(ctx_, root_, UnixAddr{}, 0).ok());
    EXPECT_NE(std::string(a->local_name().path, 6), std::string(b->local_name().path, 6));
}

TEST_F(UnixTest, DatagramsKeepBoundariesAndSenders) {
    UnixSocket* srv = make(kSockDgram);
    ASSERT_TRUE(srv->bind(ctx_, root_, abstract_addr("dgsrv"), 0).ok());
    UnixSocket* cli = make(kSockDgram);
    ASSERT_TRUE(cli->bind(ctx_, root_, path_addr("/cli"), 0755).ok());
    EXPECT_EQ(err(cli->send(bytes("x"), 0, nullptr, nullptr)), Errno::kENOTCONN);
    ASSERT_EQ(*cli->send(bytes("one"), 0, srv, nullptr), 3u);
    ASSERT_EQ(*cli->send(bytes("second"), 0, srv, nullptr), 6u);
    ASSERT_EQ(*cli->send(bytes(""), 0, srv, nullptr), 0u);
    EXPECT_EQ(srv->readable_bytes(), 3u);
    uint8_t buf[4];
    UnixAddr from;
    size_t full = 0;
    auto r = srv->recv(Span<uint8_t>(buf, 4), 0, &from, &full, nullptr);
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(*r, 3u);
    EXPECT_EQ(std::string(from.path, from.len), "/cli");
    auto r2 = srv->recv(Span<uint8_t>(buf, 4), 0, &from, &full, nullptr);  // truncated
    ASSERT_TRUE(r2.ok());
    EXPECT_EQ(*r2, 4u);
    EXPECT_EQ(full, 6u);
    auto r3 = srv->recv(Span<uint8_t>(buf, 4), 0, &from, &full, nullptr);  // the empty one
    ASSERT_TRUE(r3.ok());
    EXPECT_EQ(*r3, 0u);
    EXPECT_EQ(err(srv->recv(Span<uint8_t>(buf, 4), 0, &from, &full, nullptr)), Errno::kEAGAIN);
    std::vector<uint8_t> huge(kUnixDgramMax + 1);
    EXPECT_EQ(err(cli->send(Span<const uint8_t>(huge.data(), huge.size()), 0, srv, nullptr)),
              Errno::kEMSGSIZE);
}

TEST_F(UnixTest, DatagramQueueFullAndConnectedPeers) {
    UnixSocket *a, *b;
    ASSERT_TRUE(UnixSocket::pair(kSockDgram, cred_, &a, &b).ok());
    keep(a);
    keep(b);
    for (size_t i = 0; i < kUnixDgramQueue; i++)
        ASSERT_TRUE(a->send(bytes("d"), 0, nullptr, nullptr).ok());
    EXPECT_EQ(err(a->send(bytes("d"), 0, nullptr, nullptr)), Errno::kEAGAIN);
    EXPECT_EQ(a->poll_events() & fs::kPollOut, 0u);
    EXPECT_EQ(recv_str(b), "d");
    EXPECT_NE(a->poll_events() & fs::kPollOut, 0u);
    // b is connected to a: a third socket may not send to it.
    UnixSocket* c = make(kSockDgram);
    EXPECT_EQ(err(c->send(bytes("x"), 0, b, nullptr)), Errno::kEPERM);
    close(a);
    // b's peer is gone: sending to it is refused.
    EXPECT_EQ(err(b->send(bytes("x"), 0, nullptr, nullptr)), Errno::kECONNREFUSED);
}

TEST_F(UnixTest, RightsTravelWithTheirBytes) {
    UnixSocket *a, *b;
    ASSERT_TRUE(UnixSocket::pair(kSockStream, cred_, &a, &b).ok());
    keep(a);
    keep(b);
    int freed = 0;
    auto* in = mm::make<Dummy>(&freed);
    fs::File* f = fs::File::make(in, 0, nullptr);
    ASSERT_NE(f, nullptr);
    ASSERT_TRUE(a->send(bytes("before"), 0, nullptr, nullptr).ok());
    auto* rights = new UnixRights;
    rights->files[0] = f;  // the File's one reference travels
    rights->count = 1;
    ASSERT_TRUE(a->send(bytes("with"), 0, nullptr, rights).ok());
    EXPECT_EQ(rights->count, 0u);
    ASSERT_TRUE(a->send(bytes("after"), 0, nullptr, nullptr).ok());
    // A read stops before the bytes that carry descriptors...
    auto* got = new UnixRights;
    uint8_t buf[64];
    auto r = b->recv(Span<uint8_t>(buf, sizeof buf), 0, nullptr, nullptr, got);
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(std::string(reinterpret_cast<char*>(buf), *r), "before");
    EXPECT_EQ(got->count, 0u);
    // ...and ends after them.
    auto r2 = b->recv(Span<uint8_t>(buf, sizeof buf), 0, nullptr, nullptr, got);
    ASSERT_TRUE(r2.ok());
    EXPECT_EQ(std::string(reinterpret_cast<char*>(buf), *r2), "with");
    ASSERT_EQ(got->count, 1u);
    EXPECT_EQ(got->files[0], f);
    EXPECT_EQ(recv_str(b), "after");
    EXPECT_EQ(freed, 0);
    got->files[0]->release();
    EXPECT_EQ(freed, 1);
    // Descriptors still queued at close are released.
    auto* in2 = mm::make<Dummy>(&freed);
    rights->files[0] = fs::File::make(in2, 0, nullptr);
    rights->count = 1;
    ASSERT_TRUE(a->send(bytes("z"), 0, nullptr, rights).ok());
    close(b);
    EXPECT_EQ(freed, 2);
    delete rights;
    delete got;
}

TEST_F(UnixTest, SeqpacketKeepsBoundariesOnAConnection) {
    UnixSocket* srv = make(kSockSeqpacket);
    ASSERT_TRUE(srv->bind(ctx_, root_, abstract_addr("seq"), 0).ok());
    ASSERT_TRUE(srv->listen(2).ok());
    UnixSocket* cli = make(kSockSeqpacket);
    UnixSocket* wrong = make(kSockStream);
    EXPECT_EQ(err(wrong->connect(srv)), Errno::kEPROTOTYPE);
    EXPECT_EQ(err(cli->send(bytes("x"), 0, nullptr, nullptr)), Errno::kENOTCONN);
    ASSERT_TRUE(cli->connect(srv).ok());
    UnixSocket* conn = keep(*srv->accept());
    ASSERT_EQ(*cli->send(bytes("first"), 0, nullptr, nullptr), 5u);
    ASSERT_EQ(*cli->send(bytes("second"), 0, nullptr, nullptr), 6u);
    EXPECT_EQ(conn->readable_bytes(), 5u);
    uint8_t buf[3];
    size_t full = 0;
    auto r = conn->recv(Span<uint8_t>(buf, 3), 0, nullptr, &full, nullptr);
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(*r, 3u);
    EXPECT_EQ(full, 5u);  // the rest of the record is gone
    EXPECT_EQ(recv_str(conn), "second");
    std::vector<uint8_t> huge(kUnixDgramMax + 1);
    EXPECT_EQ(err(cli->send(Span<const uint8_t>(huge.data(), huge.size()), 0, nullptr, nullptr)),
              Errno::kEMSGSIZE);
    close(cli);
    EXPECT_NE(conn->poll_events() & fs::kPollHup, 0u);
    EXPECT_EQ(recv_str(conn), "");
    EXPECT_EQ(err(conn->send(bytes("x"), 0, nullptr, nullptr)), Errno::kEPIPE);
}

TEST_F(UnixTest, DatagramToAClosedPathSocketIsRefused) {
    UnixSocket* srv = make(kSockDgram);
    ASSERT_TRUE(srv->bind(ctx_, root_, path_addr("/d"), 0755).ok());
    UnixSocket* cli = make(kSockDgram);
    auto t = UnixSocket::lookup(ctx_, root_, path_addr("/d"));
    ASSERT_TRUE(t.ok());
    ASSERT_TRUE(cli->connect(*t).ok());
    (*t)->release();
    close(srv);
    EXPECT_EQ(err(cli->send(bytes("x"), 0, nullptr, nullptr)), Errno::kECONNREFUSED);
    ASSERT_TRUE(cli->connect(nullptr).ok());
    EXPECT_EQ(err(cli->send(bytes("x"), 0, nullptr, nullptr)), Errno::kENOTCONN);
}

}  // namespace
