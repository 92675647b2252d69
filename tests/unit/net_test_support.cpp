#include "net_test_support.h"

#include <gtest/gtest.h>
#include <string.h>

#include "fs_test_support.h"

namespace kiln_test {

kiln::Result<void> FakeDevice::transmit(const TxFrame& frame) {
    if (full) return kiln::Error(kiln::Errno::kEAGAIN);
    std::vector<uint8_t> d(frame.data.begin(), frame.data.end());
    if (frame.gso_size != 0) {
        // Segment as a NIC (or the host's TAP) does: full segments but the
        // last, sequence numbers advanced, FIN/PSH on the last only.
        EXPECT_TRUE(frame.needs_csum);
        EXPECT_LE(d.size() - 14, tso);
        gso_frames++;
        size_t hl = frame.hdr_len, cs = frame.csum_start;
        size_t payload = d.size() - hl;
        uint32_t seq0 = kiln::load_be32(d.data() + cs + 4);
        uint8_t flags = d[cs + 13];
        for (size_t off = 0, k = 0; off < payload; off += frame.gso_size, ++k) {
            size_t n = payload - off < frame.gso_size ? payload - off : frame.gso_size;
            std::vector<uint8_t> seg(d.begin(), d.begin() + hl);
            seg.insert(seg.end(), d.begin() + hl + off, d.begin() + hl + off + n);
            uint8_t* ip = seg.data() + 14;
            size_t l4len = hl - cs + n;
            if (frame.gso_v6) {
                kiln::store_be16(ip + 4, static_cast<uint16_t>(l4len));
            } else {
                kiln::store_be16(ip + 2, static_cast<uint16_t>(cs - 14 + l4len));
                kiln::store_be16(ip + 4, static_cast<uint16_t>(kiln::load_be16(ip + 4) + k));
                kiln::store_be16(ip + 10, 0);
                kiln::store_be16(ip + 10, kiln::internet_checksum(ip, cs - 14));
            }
            uint8_t* t = seg.data() + cs;
            kiln::store_be32(t + 4, seq0 + static_cast<uint32_t>(off));
            if (off + n < payload) t[13] = static_cast<uint8_t>(flags & ~0x09);
            kiln::store_be16(t + 16, 0);
            kiln::net::IpAddr src, dst;
            if (frame.gso_v6) {
                src = kiln::net::IpAddr::v6(ip + 8);
                dst = kiln::net::IpAddr::v6(ip + 24);
            } else {
                src = kiln::net::IpAddr::v4(ip + 12);
                dst = kiln::net::IpAddr::v4(ip + 16);
            }
            uint64_t ps = kiln::net::StackImpl::pseudo_sum(src, dst, kiln::net::kProtoTcp, l4len);
            kiln::store_be16(t + 16, kiln::csum_finish(kiln::csum_partial(t, l4len, ps)));
            link_->enqueue(side_, seg.data(), seg.size());
        }
        return {};
    }
    if (frame.needs_csum) {
        // Do what a NIC with checksum offload does (virtio-net §5.1.6.2).
        uint64_t s =
            kiln::csum_partial(d.data() + frame.csum_start, d.size() - frame.csum_start, 0);
        uint16_t c = kiln::csum_finish(s);
        kiln::store_be16(d.data() + frame.csum_start + frame.csum_offset, c);
    }
    link_->enqueue(side_, d.data(), d.size());
    return {};
}

NetLink::NetLink(bool offload, uint64_t seed)
    : dev{FakeDevice(this, 0, 1, offload), FakeDevice(this, 1, 2, offload)},
      rng_(seed * 2654435761u + 1) {
    use_malloc_heap();
}

NetLink::~NetLink() = default;

Interface* NetLink::attach(int side, Stack* s) {
    stack[side] = s;
    auto r = s->attach(&dev[side]);
    iface[side] = r.ok() ? *r : nullptr;
    return iface[side];
}

uint64_t NetLink::rand() {
    rng_ ^= rng_ << 13;
    rng_ ^= rng_ >> 7;
    rng_ ^= rng_ << 17;
    return rng_;
}

void NetLink::enqueue(int from, const uint8_t* data, size_t len) {
    Frame f;
    f.data.assign(data, data + len);
    f.from = from;
    f.at = now;
    sent.push_back(f);
    if (cut) return;
    if (loss_percent > 0 && rand() % 100 < loss_percent) return;
    if (drop_if && drop_if(f)) return;
    int copies = (dup_percent > 0 && rand() % 100 < dup_percent) ? 2 : 1;
    for (int i = 0; i < copies; ++i) {
        Frame g = f;
        g.at = now + delay;
        if (reorder_percent > 0 && rand() % 100 < reorder_percent) g.at += delay * 3;
        // Keep in_flight sorted by delivery time (stable).
        auto it = in_flight.end();
        while (it != in_flight.begin() && (it - 1)->at > g.at) --it;
        in_flight.insert(it, g);
    }
}

void NetLink::inject(int to, const std::vector<uint8_t>& frame, bool csum_valid) {
    if (stack[to] == nullptr) return;
    stack[to]->receive(iface[to], kiln::Span<const uint8_t>(frame.data(), frame.size()), csum_valid,
                       now);
}

bool NetLink::step(uint64_t limit) {
    // Deliver due frames (each may cause more sends, queued for later).
    while (!in_flight.empty() && in_flight.front().at <= now) {
        Frame f = in_flight.front();
        in_flight.pop_front();
        int to = 1 - f.from;
        if (stack[to] != nullptr)
            stack[to]->receive(iface[to], kiln::Span<const uint8_t>(f.data.data(), f.data.size()),
                               false, now);
    }
    for (Stack* s : stack)
        if (s != nullptr) s->poll(now);
    uint64_t next = ~uint64_t{0};
    if (!in_flight.empty()) next = in_flight.front().at;
    for (Stack* s : stack) {
        if (s == nullptr) continue;
        uint64_t d = s->next_deadline();
        if (d < next) next = d;
    }
    if (next == ~uint64_t{0} || next > limit) return false;
    if (next > now) now = next;
    return true;
}

bool NetLink::run_until(const std::function<bool()>& pred, uint64_t max_ns) {
    uint64_t limit = now + max_ns;
    for (int guard = 0; guard < 10000000; ++guard) {
        if (pred()) return true;
        if (!step(limit)) {
            if (pred()) return true;
            // Nothing scheduled before the limit: jump there.
            if (now >= limit) return false;
            now = limit;
            step(limit);
            return pred();
        }
    }
    return pred();
}

void NetLink::run_for(uint64_t ns) {
    uint64_t limit = now + ns;
    while (step(limit)) {
    }
    now = limit;
    step(limit);
}

std::vector<Frame> NetLink::frames_from(int from, size_t since) const {
    std::vector<Frame> out;
    for (size_t i = since; i < sent.size(); ++i)
        if (sent[i].from == from) out.push_back(sent[i]);
    return out;
}

kiln::net::SockAddr v4addr(uint8_t a, uint8_t b, uint8_t c, uint8_t d, uint16_t port) {
    kiln::net::SockAddr sa;
    sa.family = kiln::net::kAfInet;
    sa.port = port;
    sa.addr[0] = a;
    sa.addr[1] = b;
    sa.addr[2] = c;
    sa.addr[3] = d;
    return sa;
}

kiln::net::SockAddr v6addr(const char* text, uint16_t port) {
    // Groups of hex separated by ':', one '::' allowed.
    kiln::net::SockAddr sa;
    sa.family = kiln::net::kAfInet6;
    sa.port = port;
    uint16_t head[8] = {}, tail[8] = {};
    int nh = 0, nt = 0;
    bool gap = false;
    const char* p = text;
    while (*p) {
        if (p[0] == ':' && p[1] == ':') {
            gap = true;
            p += 2;
            continue;
        }
        if (*p == ':') {
            ++p;
            continue;
        }
        unsigned v = 0;
        while (*p && *p != ':') {
            char ch = *p++;
            v = v * 16 + (ch <= '9' ? ch - '0' : (ch | 0x20) - 'a' + 10);
        }
        if (gap)
            tail[nt++] = static_cast<uint16_t>(v);
        else
            head[nh++] = static_cast<uint16_t>(v);
    }
    uint16_t g[8] = {};
    for (int i = 0; i < nh; ++i) g[i] = head[i];
    for (int i = 0; i < nt; ++i) g[8 - nt + i] = tail[i];
    for (int i = 0; i < 8; ++i) {
        sa.addr[2 * i] = static_cast<uint8_t>(g[i] >> 8);
        sa.addr[2 * i + 1] = static_cast<uint8_t>(g[i]);
    }
    return sa;
}

void config_v4(Stack* s, Interface* i, uint8_t last, uint8_t prefix, uint8_t gw) {
    kiln::net::Ipv4Config c;
    c.addr[0] = 10;
    c.addr[1] = 0;
    c.addr[2] = 0;
    c.addr[3] = last;
    c.prefix_len = prefix;
    if (gw != 0) {
        c.gateway[0] = 10;
        c.gateway[3] = gw;
    }
    (void)s->configure_ipv4(i, c);
}

}  // namespace kiln_test
