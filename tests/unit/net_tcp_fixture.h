// The TCP tests' fixture: two Stacks on a simulated link, a listener, a
// connected pair and a transfer helper (net_tcp_test.cpp,
// net_tcp_loss_test.cpp).
#pragma once

#include <gtest/gtest.h>
#include <string.h>

#include <string>
#include <vector>

#include "kiln/byteorder.h"
#include "mm/new.h"
#include "net/socket.h"
#include "net/stack.h"
#include "net_test_support.h"
#include "net_two_stacks.h"

using namespace kiln;
using namespace kiln::net;
using kiln_test::Frame;
using kiln_test::NetLink;
using kiln_test::v4addr;

// The TCP header of an IPv4 frame, or nullptr.
inline const uint8_t* tcp_of(const Frame& f) {
    if (f.data.size() < 54 || load_be16(f.data.data() + 12) != kEtherIpv4) return nullptr;
    const uint8_t* ip = f.data.data() + 14;
    if (ip[9] != kProtoTcp) return nullptr;
    return ip + (ip[0] & 15) * 4;
}
inline size_t tcp_payload_len(const Frame& f) {
    const uint8_t* ip = f.data.data() + 14;
    const uint8_t* t = tcp_of(f);
    return load_be16(ip + 2) - (ip[0] & 15) * 4 - (t[12] >> 4) * 4;
}

class NetTcp : public kiln_test::TwoStacks {
protected:
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

    Socket* lsock = nullptr;
};
