// A simulated Ethernet link for host tests of kernel/net: two Stacks (or a
// Stack and a scripted peer) joined through fake Devices, with the test in
// charge of time. Frames in flight can be dropped, duplicated, reordered
// and delayed, deterministically (a seeded generator), and every frame is
// recorded for the test to inspect.
#pragma once

#include <stddef.h>
#include <stdint.h>

#include <deque>
#include <functional>
#include <vector>

#include "net/api.h"
#include "net/stack.h"

namespace kiln_test {

using kiln::net::Device;
using kiln::net::Interface;
using kiln::net::MacAddr;
using kiln::net::Stack;
using kiln::net::TxFrame;

class NetLink;

class FakeDevice : public Device {
public:
    FakeDevice(NetLink* link, int side, uint8_t last_mac_byte, bool offload)
        : link_(link), side_(side), offload_(offload) {
        mac_.b[0] = 0x52;
        mac_.b[1] = 0x54;
        mac_.b[5] = last_mac_byte;
    }
    MacAddr mac() const override { return mac_; }
    uint16_t mtu() const override { return mtu_; }
    bool tx_csum_offload() const override { return offload_; }
    uint32_t tso_max() const override { return tso; }
    kiln::Result<void> transmit(const TxFrame& frame) override;

    uint16_t mtu_ = 1500;
    bool full = false;  // transmit answers EAGAIN
    uint32_t tso = 0;   // segmentation offload up to this IP length
    size_t gso_frames = 0;

private:
    NetLink* link_;
    int side_;
    MacAddr mac_;
    bool offload_;
};

struct Frame {
    std::vector<uint8_t> data;
    int from = 0;  // side 0 or 1
    uint64_t at = 0;
};

// The link and the clock. Side 0 and side 1 each have a FakeDevice; a side
// is either a Stack or the test itself (frames to it are only recorded).
class NetLink {
public:
    explicit NetLink(bool offload = false, uint64_t seed = 1);
    ~NetLink();

    // Wires a stack to side `side` (its device attached to it).
    Interface* attach(int side, Stack* s);

    uint64_t now = 1000000000;  // 1 s
    uint64_t delay = 100000;    // one-way latency, 100 us
    unsigned loss_percent = 0;
    unsigned dup_percent = 0;
    unsigned reorder_percent = 0;  // frames given extra delay
    bool cut = false;              // every frame is lost
    // Returns true to drop a frame (after the random loss).
    std::function<bool(const Frame&)> drop_if;

    FakeDevice dev[2];
    Stack* stack[2] = {nullptr, nullptr};
    Interface* iface[2] = {nullptr, nullptr};
    std::vector<Frame> sent;      // every frame transmitted, in order
    std::deque<Frame> in_flight;  // ordered by delivery time

    void enqueue(int from, const uint8_t* data, size_t len);
    // Injects a frame arriving at `to` now (a hand-built packet).
    void inject(int to, const std::vector<uint8_t>& frame, bool csum_valid = false);
    // Delivers what is due, runs timers, advances time to the next event.
    // Returns false when nothing is left to happen.
    bool step(uint64_t limit);
    // Steps until pred() or until `max_ns` of simulated time passed.
    bool run_until(const std::function<bool()>& pred, uint64_t max_ns);
    // Steps for a while of simulated time.
    void run_for(uint64_t ns);
    // The frames side `from` sent since index `since` of sent.
    std::vector<Frame> frames_from(int from, size_t since) const;

private:
    uint64_t rng_;
    uint64_t rand();
};

// Helpers.
kiln::net::SockAddr v4addr(uint8_t a, uint8_t b, uint8_t c, uint8_t d, uint16_t port);
kiln::net::SockAddr v6addr(const char* text, uint16_t port);  // "fe80::1"-style, simple
void config_v4(Stack* s, Interface* i, uint8_t last, uint8_t prefix = 24, uint8_t gw = 0);

}  // namespace kiln_test
