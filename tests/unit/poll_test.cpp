// Readiness objects on the host: the pipe ring and pipe(7) semantics
// (EAGAIN, end of file, EPIPE, PIPE_BUF atomicity, POLLHUP/POLLERR),
// eventfd(2) counters, and epoll(7) level/edge/oneshot reporting, its
// ctl errors, nesting and items dropped when their file is closed.
#define KILN_HOSTED_NEW 1  // <new> comes with gtest
#include <gtest/gtest.h>
#include <string.h>

#include <vector>

#include "fs/epoll.h"
#include "fs/eventfd.h"
#include "fs/file.h"
#include "fs/pipe.h"
#include "fs_test_support.h"
#include "mm/new.h"

using namespace kiln;
using namespace kiln::fs;

namespace {

constexpr uint32_t kORdonly = 0, kOWronly = 1, kORdwr = 2;

class PollTest : public ::testing::Test {
protected:
    void SetUp() override { kiln_test::use_malloc_heap(); }
};

Errno err_of(const Result<size_t>& r) {
    return r.ok() ? Errno(0) : r.error();
}

TEST_F(PollTest, ByteRingWrapsAround) {
    uint8_t storage[8];
    ByteRing ring(storage, sizeof storage);
    EXPECT_EQ(ring.push("abcdef", 6), 6u);
    char out[8] = {};
    EXPECT_EQ(ring.pop(out, 4), 4u);
    EXPECT_EQ(memcmp(out, "abcd", 4), 0);
    EXPECT_EQ(ring.push("ghijklmn", 8), 6u);  // 2 left + 6 = full
    EXPECT_EQ(ring.space(), 0u);
    EXPECT_EQ(ring.pop(out, 8), 8u);
    EXPECT_EQ(memcmp(out, "efghijkl", 8), 0);
    EXPECT_EQ(ring.size(), 0u);
    EXPECT_EQ(ring.pop(out, 1), 0u);
}

TEST_F(PollTest, PipeReadWriteEofAndEpipe) {
    auto ends = make_pipe();
    ASSERT_TRUE(ends.ok());
    Inode* r = ends->read_end;
    Inode* w = ends->write_end;
    EXPECT_EQ(r->type(), InodeType::kFifo);
    char buf[16];
    EXPECT_EQ(err_of(r->read_at(0, buf, 4)), Errno::kEAGAIN);
    EXPECT_EQ(r->poll_events(), 0u);
    EXPECT_EQ(w->poll_events(), kPollWritable);
    ASSERT_EQ(*w->write_at(0, "hello", 5), 5u);
    EXPECT_EQ(r->poll_events(), kPollReadable);
    EXPECT_EQ(r->bytes_readable(0), 5u);
    EXPECT_EQ(*r->read_at(0, buf, 2), 2u);
    EXPECT_EQ(err_of(w->read_at(0, buf, 2)), Errno::kEBADF);
    EXPECT_EQ(err_of(r->write_at(0, buf, 2)), Errno::kEBADF);
    w->release();  // last writer gone
    EXPECT_EQ(r->poll_events(), kPollReadable | kPollHup);
    EXPECT_EQ(*r->read_at(0, buf, 16), 3u);
    EXPECT_EQ(*r->read_at(0, buf, 16), 0u);  // end of file
    EXPECT_EQ(r->poll_events(), kPollHup);
    r->release();

    auto ends2 = make_pipe();
    ASSERT_TRUE(ends2.ok());
    ends2->read_end->release();  // last reader gone
    EXPECT_EQ(ends2->write_end->poll_events() & kPollErr, kPollErr);
    EXPECT_EQ(err_of(ends2->write_end->write_at(0, "x", 1)), Errno::kEPIPE);
    EXPECT_EQ(*ends2->write_end->write_at(0, "", 0), 0u);  // nothing to write: no EPIPE
    ends2->write_end->release();
}

TEST_F(PollTest, PipeFullAndPipeBufAtomicity) {
    auto ends = make_pipe();
    ASSERT_TRUE(ends.ok());
    std::vector<char> big(kPipeCapacity + 100, 'x');
    EXPECT_EQ(*ends->write_end->write_at(0, big.data(), big.size()), kPipeCapacity);
    EXPECT_EQ(err_of(ends->write_end->write_at(0, "y", 1)), Errno::kEAGAIN);
    EXPECT_EQ(ends->write_end->poll_events(), 0u);
    EXPECT_EQ(*ends->read_end->read_at(0, big.data(), 100), 100u);
    // 100 bytes of room: a PIPE_BUF write is all or nothing, a bigger one partial.
    EXPECT_EQ(err_of(ends->write_end->write_at(0, big.data(), kPipeBuf)), Errno::kEAGAIN);
    EXPECT_EQ(*ends->write_end->write_at(0, big.data(), kPipeBuf + 1), 100u);
    ends->read_end->release();
    ends->write_end->release();
}

TEST_F(PollTest, EventfdCounterAndSemaphore) {
    Inode* e = make_eventfd(3, false);
    ASSERT_NE(e, nullptr);
    uint64_t v = 0;
    char small[4];
    EXPECT_EQ(err_of(e->read_at(0, small, 4)), Errno::kEINVAL);
    EXPECT_EQ(*e->read_at(0, &v, 8), 8u);
    EXPECT_EQ(v, 3u);
    EXPECT_EQ(err_of(e->read_at(0, &v, 8)), Errno::kEAGAIN);
    EXPECT_EQ(e->poll_events(), kPollWritable);
    v = ~uint64_t{0};
    EXPECT_EQ(err_of(e->write_at(0, &v, 8)), Errno::kEINVAL);
    v = kEventfdMax;
    EXPECT_EQ(*e->write_at(0, &v, 8), 8u);
    EXPECT_EQ(e->poll_events(), kPollReadable);  // full: not writable
    v = 1;
    EXPECT_EQ(err_of(e->write_at(0, &v, 8)), Errno::kEAGAIN);
    e->release();

    Inode* s = make_eventfd(2, true);
    ASSERT_NE(s, nullptr);
    EXPECT_EQ(*s->read_at(0, &v, 8), 8u);
    EXPECT_EQ(v, 1u);
    EXPECT_EQ(*s->read_at(0, &v, 8), 8u);
    EXPECT_EQ(err_of(s->read_at(0, &v, 8)), Errno::kEAGAIN);
    s->release();
}

struct PipeFiles {
    File* r;
    File* w;
};

PipeFiles pipe_files() {
    auto ends = make_pipe();
    return {File::make(ends->read_end, kORdonly, nullptr),
            File::make(ends->write_end, kOWronly, nullptr)};
}

size_t wait_now(Epoll* ep, EpollEvent* out) {
    return ep->collect(out, 8);
}

TEST_F(PollTest, EpollLevelEdgeAndOneshot) {
    auto* ep = mm::make<Epoll>();
    PipeFiles p = pipe_files();
    EpollEvent out[8];
    ASSERT_TRUE(ep->ctl(kEpollCtlAdd, 3, p.r, kPollIn, 0xabcdef).ok());
    EXPECT_EQ(wait_now(ep, out), 0u);
    EXPECT_EQ(ep->poll_events(), 0u);
    ASSERT_TRUE(p.w->inode()->write_at(0, "ab", 2).ok());
    EXPECT_EQ(ep->poll_events(), kPollReadable);
    ASSERT_EQ(wait_now(ep, out), 1u);
    EXPECT_EQ(out[0].events, kPollIn);
    EXPECT_EQ(out[0].data, 0xabcdefu);
    EXPECT_EQ(wait_now(ep, out), 1u);  // level: again
    char buf[4];
    ASSERT_TRUE(p.r->inode()->read_at(0, buf, 4).ok());
    EXPECT_EQ(wait_now(ep, out), 0u);

    ASSERT_TRUE(ep->ctl(kEpollCtlMod, 3, p.r, kPollIn | kEpollEt, 1).ok());
    ASSERT_TRUE(p.w->inode()->write_at(0, "a", 1).ok());
    EXPECT_EQ(wait_now(ep, out), 1u);
    EXPECT_EQ(wait_now(ep, out), 0u);  // edge: once
    ASSERT_TRUE(p.w->inode()->write_at(0, "b", 1).ok());
    EXPECT_EQ(wait_now(ep, out), 1u);  // a new edge

    ASSERT_TRUE(ep->ctl(kEpollCtlMod, 3, p.r, kPollIn | kEpollOneshot, 2).ok());
    EXPECT_EQ(wait_now(ep, out), 1u);  // data still there
    ASSERT_TRUE(p.w->inode()->write_at(0, "c", 1).ok());
    EXPECT_EQ(wait_now(ep, out), 0u);  // disabled
    ASSERT_TRUE(ep->ctl(kEpollCtlMod, 3, p.r, kPollIn | kEpollOneshot, 2).ok());
    EXPECT_EQ(wait_now(ep, out), 1u);

    // The writer closes: EPOLLHUP though not asked for.
    ASSERT_TRUE(ep->ctl(kEpollCtlMod, 3, p.r, kPollIn, 4).ok());
    p.w->release();
    ASSERT_EQ(wait_now(ep, out), 1u);
    EXPECT_EQ(out[0].events, kPollIn | kPollHup);

    // Closing the file for good drops the item.
    EXPECT_EQ(ep->item_count(), 1u);
    p.r->release();
    EXPECT_EQ(ep->item_count(), 0u);
    EXPECT_EQ(wait_now(ep, out), 0u);
    ep->release();
}

TEST_F(PollTest, EpollCtlErrors) {
    auto* ep = mm::make<Epoll>();
    File* self = File::make(ep, kORdwr, nullptr);
    ep->retain();
    PipeFiles p = pipe_files();
    EXPECT_EQ(ep->ctl(kEpollCtlMod, 4, p.r, kPollIn, 0).error(), Errno::kENOENT);
    EXPECT_EQ(ep->ctl(kEpollCtlDel, 4, p.r, 0, 0).error(), Errno::kENOENT);
    EXPECT_TRUE(ep->ctl(kEpollCtlAdd, 4, p.r, kPollIn, 0).ok());
    EXPECT_EQ(ep->ctl(kEpollCtlAdd, 4, p.r, kPollIn, 0).error(), Errno::kEEXIST);
    EXPECT_TRUE(ep->ctl(kEpollCtlAdd, 5, p.r, kPollIn, 0).ok());  // another fd, same file
    EXPECT_EQ(ep->ctl(kEpollCtlAdd, 6, self, kPollIn, 0).error(), Errno::kEINVAL);
    EXPECT_EQ(ep->ctl(99, 4, p.r, kPollIn, 0).error(), Errno::kEINVAL);
    EXPECT_TRUE(ep->ctl(kEpollCtlDel, 4, p.r, 0, 0).ok());
    EXPECT_EQ(ep->item_count(), 1u);
    // EPOLLEXCLUSIVE: not with ONESHOT, not changed by MOD.
    EXPECT_EQ(ep->ctl(kEpollCtlAdd, 10, p.w, kPollOut | kEpollExclusive | kEpollOneshot, 0).error(),
              Errno::kEINVAL);
    EXPECT_TRUE(ep->ctl(kEpollCtlAdd, 10, p.w, kPollOut | kEpollExclusive, 0).ok());
    EXPECT_EQ(ep->ctl(kEpollCtlMod, 10, p.w, kPollOut, 0).error(), Errno::kEINVAL);
    EXPECT_TRUE(ep->ctl(kEpollCtlDel, 10, p.w, 0, 0).ok());

    // Nesting: a cycle is ELOOP.
    auto* inner = mm::make<Epoll>();
    File* inner_file = File::make(inner, kORdwr, nullptr);
    EXPECT_TRUE(ep->ctl(kEpollCtlAdd, 7, inner_file, kPollIn, 0).ok());
    EXPECT_EQ(inner->ctl(kEpollCtlAdd, 8, self, kPollIn, 0).error(), Errno::kELOOP);
    // A nested instance tells its parent when it becomes ready.
    PipeFiles q = pipe_files();
    EXPECT_TRUE(inner->ctl(kEpollCtlAdd, 9, q.r, kPollIn, 0).ok());
    EpollEvent out[8];
    EXPECT_EQ(ep->collect(out, 8), 0u);
    ASSERT_TRUE(q.w->inode()->write_at(0, "z", 1).ok());
    ASSERT_EQ(ep->collect(out, 8), 1u);
    EXPECT_EQ(out[0].data, 0u);

    q.r->release();
    q.w->release();
    inner_file->release();
    p.r->release();
    p.w->release();
    self->release();
    ep->release();
}

// Many items: the fd hash grows, finds and forgets them.
TEST_F(PollTest, EpollManyItems) {
    auto* ep = mm::make<Epoll>();
    PipeFiles p = pipe_files();
    ASSERT_TRUE(p.w->inode()->write_at(0, "x", 1).ok());
    for (int fd = 0; fd < 1000; fd++)
        ASSERT_TRUE(ep->ctl(kEpollCtlAdd, fd, p.r, kPollIn, fd).ok()) << fd;
    EXPECT_EQ(ep->item_count(), 1000u);
    EXPECT_EQ(ep->ctl(kEpollCtlAdd, 537, p.r, kPollIn, 0).error(), Errno::kEEXIST);
    for (int fd = 0; fd < 1000; fd += 2)
        ASSERT_TRUE(ep->ctl(kEpollCtlDel, fd, p.r, 0, 0).ok()) << fd;
    EXPECT_EQ(ep->item_count(), 500u);
    EXPECT_EQ(ep->ctl(kEpollCtlMod, 536, p.r, kPollIn, 0).error(), Errno::kENOENT);
    EXPECT_TRUE(ep->ctl(kEpollCtlMod, 537, p.r, kPollIn, 0).ok());
    std::vector<EpollEvent> out(2000);
    size_t n = ep->collect(out.data(), out.size());
    EXPECT_EQ(n, 500u);  // every odd fd is ready
    p.r->release();      // closing the file drops all 500
    EXPECT_EQ(ep->item_count(), 0u);
    p.w->release();
    ep->release();
}

}  // namespace
