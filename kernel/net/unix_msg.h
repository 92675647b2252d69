// The message node of an AF_UNIX receive queue (unix.cpp, unix_data.cpp).
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "net/unix.h"

namespace kiln::net {

// One write (stream: bytes from writes without descriptors coalesce) or
// one datagram, with the bytes after the header.
struct UnixSocket::Msg {
    Msg* next = nullptr;
    size_t len = 0;  // bytes stored
    size_t off = 0;  // bytes already read (streams)
    size_t cap = 0;
    fs::File** files = nullptr;
    size_t nfiles = 0;
    UnixAddr from;

    uint8_t* data() { return reinterpret_cast<uint8_t*>(this + 1); }
};

}  // namespace kiln::net
