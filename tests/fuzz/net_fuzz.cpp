// Fuzz target for kernel/net's receive path: whole Ethernet frames into
// Stack::receive with a listening TCP socket (dual-stack, port 80), an
// IPv4 listener (port 81) and a bound UDP socket (port 53) present, and
// time that advances so every timer runs. The input is a script:
//
//   repeated { u8 op, u16 len (little-endian), len bytes }
//     op % 4 == 0  a frame, as is (op & 0x10: the device says the L4
//                  checksum is valid, so the fuzzer reaches TCP's states)
//              1  a frame: the bytes after a valid Ethernet + IPv4 header
//                 from 10.0.0.1 to 10.0.0.2 whose protocol is the first byte
//              2  time passes: len milliseconds, then poll()
//              3  the application: accept, read, write len bytes, and
//                 close a socket when op & 0x80
//
// Invariants: every transmitted frame fits the MTU and has a valid
// Ethernet type; the stack never asks to run in the past; at the end,
// with every socket closed and ten minutes passed, no TCP socket is left.
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_check.h"
#include "kiln/byteorder.h"
#include "kiln/checksum.h"
#include "mm/heap.h"
#include "mm/new.h"
#include "net/socket.h"
#include "net/stack.h"

using namespace kiln;
using namespace kiln::net;

namespace {

class NullDevice : public Device {
public:
    MacAddr mac() const override {
        MacAddr m;
        m.b[0] = 0x52;
        m.b[1] = 0x54;
        m.b[5] = 2;
        return m;
    }
    uint16_t mtu() const override { return 1500; }
    bool tx_csum_offload() const override { return offload; }
    uint32_t tso_max() const override { return tso; }
    Result<void> transmit(const TxFrame& f) override {
        FUZZ_CHECK(f.data.size() >= 14);
        if (f.gso_size != 0) {
            // A segmentation-offload frame: TCP, headers inside, one MSS
            // per piece, within what the device said it takes.
            FUZZ_CHECK(tso != 0 && f.needs_csum && f.data.size() - 14 <= tso);
            FUZZ_CHECK(f.hdr_len > f.csum_start && f.hdr_len < f.data.size());
            FUZZ_CHECK(f.gso_size <= 1500 - 40);
        } else {
            FUZZ_CHECK(f.data.size() <= 14 + 1500 + 4);
        }
        uint16_t type = load_be16(f.data.data() + 12);
        FUZZ_CHECK(type == kEtherIpv4 || type == kEtherArp || type == kEtherIpv6);
        if (f.needs_csum) FUZZ_CHECK(f.csum_start + f.csum_offset + 2u <= f.data.size());
        kiln::fuzz::touch(f.data.data(), f.data.size());
        frames++;
        if (type == kEtherIpv4 && f.data.size() >= 14 + 20 + 20 && f.data[14 + 9] == kProtoTcp) {
            const uint8_t* ip = f.data.data() + 14;
            size_t ihl = (ip[0] & 15) * 4u;
            const uint8_t* t = ip + ihl;
            if (14 + ihl + 20 <= f.data.size()) {
                size_t total = load_be16(ip + 2);
                size_t doff = (t[12] >> 4) * 4u;
                size_t len = total > ihl + doff ? total - ihl - doff : 0;
                last_nxt = load_be32(t + 4) + static_cast<uint32_t>(len) +
                           ((t[13] & 0x02) ? 1 : 0) + ((t[13] & 0x01) ? 1 : 0);
                if (t[13] & 0x10) last_ack = load_be32(t + 8);
            }
        }
        return {};
    }
    bool offload = false;
    uint32_t tso = 0;
    size_t frames = 0;
    uint32_t last_nxt = 0;  // the sequence number after the last TCP segment sent
    uint32_t last_ack = 0;  // the last ACK number sent
};

void init_heap() {
    static bool done = false;
    if (done) return;
    done = true;
    mm::PageSource src{[](void*, size_t n) -> void* { return aligned_alloc(4096, n * 4096); },
                       [](void*, void* p, size_t) { free(p); }, nullptr};
    mm::heap_init(src, [](void*) { abort(); });
}

Socket* make_listener(Stack* s, int family, uint16_t port) {
    auto r = s->socket(family, kSockStream, 0);
    FUZZ_CHECK(r.ok());
    SockAddr a;
    a.family = static_cast<uint16_t>(family);
    a.port = port;
    FUZZ_CHECK((*r)->bind(a).ok());
    FUZZ_CHECK((*r)->listen(4).ok());
    return *r;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    init_heap();
    NullDevice dev;
    dev.offload = size > 0 && (data[0] & 1);
    dev.tso = size > 0 && (data[0] & 0x20) ? 65535 : 0;
    Stack* st = Stack::create();
    FUZZ_CHECK(st != nullptr);
    uint64_t now = 1000000000;
    st->set_now(now);
    Interface* ifc = *st->attach(&dev);
    Ipv4Config c4;
    c4.addr[0] = 10;
    c4.addr[3] = 2;
    c4.prefix_len = 24;
    c4.gateway[0] = 10;
    c4.gateway[3] = 1;
    FUZZ_CHECK(st->configure_ipv4(ifc, c4).ok());
    Ipv6Config c6;
    c6.addr[0] = 0xfd;
    c6.addr[15] = 2;
    c6.prefix_len = 64;
    FUZZ_CHECK(st->configure_ipv6(ifc, c6).ok());
    {
        // The peer 10.0.0.1 (MAC 02:02:02:02:02:02) asks for us, so our
        // answers to it go out at once rather than wait for ARP.
        uint8_t arp[42] = {};
        __builtin_memset(arp, 0xff, 6);
        __builtin_memset(arp + 6, 0x02, 6);
        store_be16(arp + 12, kEtherArp);
        uint8_t* a = arp + 14;
        store_be16(a, 1);
        store_be16(a + 2, kEtherIpv4);
        a[4] = 6;
        a[5] = 4;
        store_be16(a + 6, 1);
        __builtin_memset(a + 8, 0x02, 6);
        a[14] = 10;
        a[17] = 1;
        a[24] = 10;
        a[27] = 2;
        st->receive(ifc, Span<const uint8_t>(arp, sizeof arp), false, now);
    }
    Socket* l6 = make_listener(st, kAfInet6, 80);
    Socket* l4 = make_listener(st, kAfInet, 81);
    Socket* u = *st->socket(kAfInet, kSockDgram, 0);
    SockAddr ua;
    ua.family = kAfInet;
    ua.port = 53;
    FUZZ_CHECK(u->bind(ua).ok());

    static constexpr int kMaxConns = 8;
    Socket* conns[kMaxConns] = {};
    uint8_t frame[2048];
    uint8_t buf[4096];
    size_t i = 0;
    while (i + 3 <= size) {
        uint8_t op = data[i];
        size_t len = data[i + 1] | (size_t{data[i + 2]} << 8);
        i += 3;
        if (len > size - i) len = size - i;
        const uint8_t* p = data + i;
        i += len;
        st->set_now(now);
        switch (op % 4) {
            case 0:
                st->receive(ifc, Span<const uint8_t>(p, len), (op & 0x10) != 0, now);
                break;
            case 1: {
                if (len == 0 || len - 1 > sizeof(frame) - 34) break;
                MacAddr m = dev.mac();
                __builtin_memcpy(frame, m.b, 6);
                __builtin_memset(frame + 6, 0x02, 6);
                store_be16(frame + 12, kEtherIpv4);
                uint8_t* ip = frame + 14;
                __builtin_memset(ip, 0, 20);
                ip[0] = 0x45;
                store_be16(ip + 2, static_cast<uint16_t>(20 + len - 1));
                ip[8] = 64;
                ip[9] = p[0];
                ip[12] = 10;
                ip[15] = 1;
                ip[16] = 10;
                ip[19] = 2;
                store_be16(ip + 10, internet_checksum(ip, 20));
                __builtin_memcpy(ip + 20, p + 1, len - 1);
                if (p[0] == kProtoTcp && len - 1 >= 20) {
                    uint8_t* t = ip + 20;
                    if (load_be32(t + 4) == 0xffffffffu) store_be32(t + 4, dev.last_ack);
                    if (load_be32(t + 8) == 0xffffffffu) store_be32(t + 8, dev.last_nxt);
                }
                st->receive(ifc, Span<const uint8_t>(frame, 34 + len - 1), (op & 0x10) != 0, now);
                break;
            }
            case 2:
                now += uint64_t(len) * 1000000;
                st->poll(now);
                break;
            case 3: {
                Socket* listeners[2] = {l6, l4};
                for (Socket* l : listeners) {
                    for (Socket*& c : conns) {
                        if (c != nullptr) continue;
                        SockAddr peer;
                        auto r = l->accept(&peer);
                        if (!r.ok()) break;
                        c = *r;
                    }
                }
                size_t k = len % kMaxConns;
                Socket* c = conns[k];
                if (c != nullptr) {
                    (void)c->recv(Span<uint8_t>(buf, sizeof buf), 0, nullptr, nullptr);
                    size_t n = len < sizeof buf ? len : sizeof buf;
                    __builtin_memset(buf, 'x', n);
                    (void)c->send(Span<const uint8_t>(buf, n), 0, nullptr);
                    (void)c->poll_events();
                    if (op & 0x80) {
                        c->close();
                        conns[k] = nullptr;
                    }
                }
                size_t full = 0;
                SockAddr from;
                if (u->recv(Span<uint8_t>(buf, sizeof buf), 0, &from, &full).ok() && from.port != 0)
                    (void)u->send(Span<const uint8_t>(buf, full < 64 ? full : 64), 0, &from);
                break;
            }
        }
        uint64_t d = st->next_deadline();
        if (d < now) {
            // Work due "before now" is fine only as "at once".
            st->poll(now);
        }
    }
    for (Socket*& c : conns)
        if (c != nullptr) c->close();
    l6->close();
    l4->close();
    u->close();
    // Everything winds down: FIN retransmissions give up, TIME-WAIT ends.
    for (int k = 0; k < 100000; ++k) {
        uint64_t d = st->next_deadline();
        if (d == ~uint64_t{0}) break;
        if (d > now) now = d;
        st->poll(now);
    }
    FUZZ_CHECK(static_cast<StackImpl*>(st)->tcp_list == nullptr);
    FUZZ_CHECK(static_cast<StackImpl*>(st)->udp_list == nullptr);
    mm::destroy(st);
    return 0;
}
