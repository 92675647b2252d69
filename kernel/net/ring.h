// A byte ring that grows on demand up to a limit: a TCP connection's send
// queue (bytes from SND.UNA on) and receive queue (in-order bytes not yet
// read, plus out-of-order bytes written ahead of the tail). Growing lazily
// keeps idle connections small (a thousand of them should not cost a
// thousand socket buffers) while a busy one reaches its SO_SNDBUF/SO_RCVBUF.
#pragma once

#include <stddef.h>
#include <stdint.h>

namespace kiln::net {

class Ring {
public:
    Ring() = default;
    Ring(const Ring&) = delete;
    Ring& operator=(const Ring&) = delete;
    ~Ring() { release(); }

    size_t size() const { return count_; }
    size_t limit() const { return limit_; }
    void set_limit(size_t limit) { limit_ = limit; }
    size_t space() const { return count_ < limit_ ? limit_ - count_ : 0; }

    // Makes room for n bytes from the head (n <= limit); false when memory
    // is short.
    bool reserve(size_t n);
    // Appends up to n bytes (bounded by the limit and memory); returns how
    // many.
    size_t push(const uint8_t* src, size_t n);
    // Writes n bytes at `off` bytes past the head without counting them
    // (out-of-order data); the caller reserved off+n.
    void write_at(size_t off, const uint8_t* src, size_t n);
    // Counts n more bytes already written past the tail.
    void commit(size_t n) { count_ += n; }
    // Copies n bytes starting `off` past the head (off+n <= size()).
    void peek(size_t off, uint8_t* dst, size_t n) const;
    // Drops n bytes from the head.
    void drop(size_t n);
    void release();

private:
    uint8_t* buf_ = nullptr;
    size_t cap_ = 0;
    size_t head_ = 0;
    size_t count_ = 0;
    size_t limit_ = 0;
};

}  // namespace kiln::net
