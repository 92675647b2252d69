// eventfd(2) counters (eventfd.h).
#include "fs/eventfd.h"

#include "fs/tree.h"
#include "mm/new.h"

namespace kiln::fs {
namespace {

class EventFd final : public TreeInode {
public:
    EventFd(uint64_t v, bool semaphore) : count_(v), semaphore_(semaphore) {
        init_meta(this, 0600);
    }
    // FIXME: Linux shows anonymous inodes (eventfd, epoll, timerfd) with no
    // file type bits; kiln has no such type and calls them character devices.
    InodeType type() const override { return InodeType::kCharDevice; }
    uint64_t size() const override { return 0; }
    bool seekable() const override { return false; }
    bool may_block() const override { return true; }
    uint64_t bytes_readable(uint64_t) const override { return count_ > 0 ? 8 : 0; }
    PollWatchers* poll_watchers() override { return &watchers_; }

    Result<size_t> read_at(uint64_t, void* buf, size_t n) override {
        if (n < 8) return Error(Errno::kEINVAL);
        if (count_ == 0) return Error(Errno::kEAGAIN);
        uint64_t v = semaphore_ ? 1 : count_;
        count_ -= v;
        __builtin_memcpy(buf, &v, 8);
        watchers_.notify(poll_events());
        return size_t{8};
    }

    Result<size_t> write_at(uint64_t, const void* buf, size_t n) override {
        if (n < 8) return Error(Errno::kEINVAL);
        uint64_t v;
        __builtin_memcpy(&v, buf, 8);
        if (v == ~uint64_t{0}) return Error(Errno::kEINVAL);
        if (v > kEventfdMax - count_) return Error(Errno::kEAGAIN);
        count_ += v;
        if (v != 0) watchers_.notify(poll_events());
        return size_t{8};
    }

    uint32_t poll_events() override {
        uint32_t ev = 0;
        if (count_ > 0) ev |= kPollReadable;
        if (count_ < kEventfdMax) ev |= kPollWritable;
        return ev;
    }

private:
    uint64_t count_;
    bool semaphore_;
    PollWatchers watchers_;
};

}  // namespace

Inode* make_eventfd(uint64_t initval, bool semaphore) {
    return mm::make<EventFd>(initval, semaphore);
}

}  // namespace kiln::fs
