// Pipes (pipe.h). Semantics from pipe(7): a read of an empty pipe is end of
// file once every writer is gone and EAGAIN before; a write with no reader
// is EPIPE (the caller raises SIGPIPE); writes of at most PIPE_BUF bytes are
// all or nothing; larger ones may be partial. Readiness as Linux's
// pipe_poll: the read end is readable with data and hangs up (POLLHUP) with
// no writers; the write end is writable with PIPE_BUF bytes of room and in
// error (POLLERR) with no readers.
#include "fs/pipe.h"

#include "fs/tree.h"
#include "mm/new.h"

namespace kiln::fs {

size_t ByteRing::push(const void* src, size_t n) {
    if (n > space()) n = space();
    const auto* s = static_cast<const uint8_t*>(src);
    size_t tail = (head_ + count_) % cap_;
    size_t first = cap_ - tail < n ? cap_ - tail : n;
    __builtin_memcpy(buf_ + tail, s, first);
    __builtin_memcpy(buf_, s + first, n - first);
    count_ += n;
    return n;
}

size_t ByteRing::pop(void* dst, size_t n) {
    if (n > count_) n = count_;
    auto* d = static_cast<uint8_t*>(dst);
    size_t first = cap_ - head_ < n ? cap_ - head_ : n;
    __builtin_memcpy(d, buf_ + head_, first);
    __builtin_memcpy(d + first, buf_, n - first);
    head_ = (head_ + n) % cap_;
    count_ -= n;
    if (count_ == 0) head_ = 0;
    return n;
}

namespace {

class PipeEnd;

// What both ends share; freed with the last end.
struct Pipe {
    Pipe() : ring(storage, kPipeCapacity) {}
    uint8_t storage[kPipeCapacity];
    ByteRing ring;
    PipeEnd* reader = nullptr;  // nullptr once every reader is gone
    PipeEnd* writer = nullptr;
    uint64_t ino = 0;
};

class PipeEnd final : public Inode {
public:
    PipeEnd(Pipe* p, bool read_end) : pipe_(p), read_end_(read_end) {
        meta.ino = p->ino;
        meta.mode = 0600;
    }
    InodeType type() const override { return InodeType::kFifo; }
    uint64_t size() const override { return 0; }
    bool seekable() const override { return false; }
    bool may_block() const override { return true; }
    uint64_t bytes_readable(uint64_t) const override { return read_end_ ? pipe_->ring.size() : 0; }
    PollWatchers* poll_watchers() override { return &watchers_; }

    Result<size_t> read_at(uint64_t, void* buf, size_t n) override {
        if (!read_end_) return Error(Errno::kEBADF);
        if (n == 0) return size_t{0};
        if (pipe_->ring.size() == 0) {
            if (pipe_->writer == nullptr) return size_t{0};  // end of file
            return Error(Errno::kEAGAIN);
        }
        size_t got = pipe_->ring.pop(buf, n);
        if (pipe_->writer != nullptr) pipe_->writer->changed();
        return got;
    }

    Result<size_t> write_at(uint64_t, const void* buf, size_t n) override {
        if (read_end_) return Error(Errno::kEBADF);
        if (n == 0) return size_t{0};  // before EPIPE, as Linux's pipe_write
        if (pipe_->reader == nullptr) return Error(Errno::kEPIPE);
        size_t room = pipe_->ring.space();
        if (room == 0 || (n <= kPipeBuf && room < n)) return Error(Errno::kEAGAIN);
        size_t put = pipe_->ring.push(buf, n);
        pipe_->reader->changed();
        return put;
    }

    uint32_t poll_events() override {
        uint32_t ev = 0;
        if (read_end_) {
            if (pipe_->ring.size() > 0) ev |= kPollReadable;
            if (pipe_->writer == nullptr) ev |= kPollHup;
        } else {
            if (pipe_->ring.space() >= kPipeBuf) ev |= kPollWritable;
            if (pipe_->reader == nullptr) ev |= kPollErr;
        }
        return ev;
    }

    void changed() { watchers_.notify(poll_events()); }

protected:
    // The last descriptor of this end is gone.
    void on_last_release() override {
        Pipe* p = pipe_;
        PipeEnd* other;
        if (read_end_) {
            p->reader = nullptr;
            other = p->writer;
        } else {
            p->writer = nullptr;
            other = p->reader;
        }
        if (other != nullptr) {
            other->changed();
        } else {
            mm::destroy(p);
        }
        mm::destroy(this);
    }

private:
    Pipe* pipe_;
    bool read_end_;
    PollWatchers watchers_;
};

}  // namespace

Result<PipeEnds> make_pipe() {
    Pipe* p = mm::make<Pipe>();
    if (p == nullptr) return Error(Errno::kENOMEM);
    p->ino = next_ino();
    auto* r = mm::make<PipeEnd>(p, true);
    auto* w = mm::make<PipeEnd>(p, false);
    if (r == nullptr || w == nullptr) {
        if (r) mm::destroy(r);
        if (w) mm::destroy(w);
        mm::destroy(p);
        return Error(Errno::kENOMEM);
    }
    p->reader = r;
    p->writer = w;
    return PipeEnds{r, w};
}

}  // namespace kiln::fs
