// Pipes (pipe(7)): a bounded byte ring shared by a read end and a write
// end, each its own inode so that closing the last descriptor of an end
// (the inode's last release) is what pipe(7) calls "all writers closed" /
// "all readers closed". Reads and writes never block here: they answer
// EAGAIN, and the file layer waits for poll_events() to change unless the
// file is O_NONBLOCK. Pure: host-tested.
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "fs/inode.h"

namespace kiln::fs {

inline constexpr size_t kPipeBuf = 4096;            // PIPE_BUF: writes up to it are atomic
inline constexpr size_t kPipeCapacity = 64 * 1024;  // Linux's default pipe size

// A fixed-size byte ring.
class ByteRing {
public:
    explicit ByteRing(uint8_t* storage, size_t capacity) : buf_(storage), cap_(capacity) {}
    size_t size() const { return count_; }
    size_t space() const { return cap_ - count_; }
    size_t capacity() const { return cap_; }
    // Copies in/out up to n bytes; returns how many moved.
    size_t push(const void* src, size_t n);
    size_t pop(void* dst, size_t n);

private:
    uint8_t* buf_;
    size_t cap_;
    size_t head_ = 0;  // next byte to read
    size_t count_ = 0;
};

struct PipeEnds {
    Inode* read_end;  // one reference each
    Inode* write_end;
};

// A new pipe; ENOMEM.
Result<PipeEnds> make_pipe();

}  // namespace kiln::fs
