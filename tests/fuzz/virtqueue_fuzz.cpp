// Fuzz target for kiln-vmm's split virtqueue (vmm/virtqueue.h, virtio 1.2
// §2.7), the device side of rings that a hostile guest writes. The input
// places the rings, fills guest memory and scripts a sequence of device
// actions and racing guest writes:
//
//   off  0  u8   size_sel  < 0x80: queue size 1 << (size_sel % 9); else raw_size
//   off  1  u8   flags     bit 0: EVENT_IDX negotiated
//   off  2  u16  raw_size
//   off  4  u64  desc_gpa, off 12 u64 avail_gpa, off 20 u64 used_gpa
//   off 28  u8   nops, then nops ops of 5 bytes: kind, u16 a, u16 b
//                  kind%4 == 0 pop (and return the chain as a device would)
//                            1 guest writes u16 b at image offset a
//                            2 should_interrupt + publish_avail_event
//                            3 reset and activate again
//                nops == 0: pop until nothing is left, as a device does
//   then the memory image: its first 32 KiB land at guest-physical 0, the
//   next 32 KiB at 4 GiB, the start of the RAM range above the MMIO hole.
//
// Guest memory is [0, 3 GiB) + [4 GiB, 4 GiB + 32 KiB), so addresses near
// the hole and the top, and lengths that wrap, are all in reach. Every pop is
// checked against a slow reference walk written from the spec: same outcome,
// same buffers, each inside guest RAM.
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>

#include "abi/boot.h"
#include "abi/virtio.h"
#include "fuzz_check.h"
#include "guest_memory.h"
#include "virtqueue.h"

using namespace kiln;
using namespace kiln::vmm;
using kiln::fuzz::touch;
using kiln::fuzz::within;

namespace {

constexpr uint64_t kHighSize = 32 * 1024;
constexpr size_t kImageHalf = 32 * 1024;
constexpr size_t kHeaderSize = 29;
constexpr size_t kOpSize = 5;

using u128 = unsigned __int128;

GuestMemory& memory() {
    static GuestMemory* mem = [] {
        auto m = GuestMemory::create(abi::kMmioHoleStart + kHighSize);
        FUZZ_CHECK(m.ok());
        FUZZ_CHECK(m->range_count() == 2);
        return new GuestMemory(*m);
    }();
    return *mem;
}

// Host pointer of guest [gpa, gpa+len) by the layout above, or null.
uint8_t* ref_host(const GuestMemory& mem, uint64_t gpa, uint64_t len) {
    if (u128(gpa) + len <= abi::kMmioHoleStart) return mem.host_base() + gpa;
    if (gpa >= abi::kMmioHoleEnd && u128(gpa - abi::kMmioHoleEnd) + len <= kHighSize) {
        return mem.range(1).host + (gpa - abi::kMmioHoleEnd);
    }
    return nullptr;
}

uint16_t ref_load16(const GuestMemory& mem, uint64_t gpa) {
    uint8_t* p = ref_host(mem, gpa, 2);
    FUZZ_CHECK(p != nullptr);  // inside a ring that activate() accepted
    uint16_t v;
    memcpy(&v, p, 2);
    return v;
}

struct Config {
    uint16_t size;
    bool event_idx;
    uint64_t desc, avail, used;
};

bool ref_activate_ok(const GuestMemory& mem, const Config& c) {
    if (c.size == 0 || c.size > kQueueSizeMax || (c.size & (c.size - 1)) != 0) return false;
    if (c.desc % 16 || c.avail % 2 || c.used % 4) return false;
    return ref_host(mem, c.desc, 16ull * c.size) && ref_host(mem, c.avail, 6 + 2ull * c.size) &&
           ref_host(mem, c.used, 6 + 8ull * c.size);
}

enum class Outcome { kNone, kChain, kError };

// §2.7.5-2.7.6: the chain at avail ring[last_avail % size], or kError for an
// index too far ahead, a head or `next` out of range, an indirect descriptor
// (not offered), a readable descriptor after a writable one (§2.7.4.2), a
// buffer outside RAM, or a chain longer than the queue (a loop).
Outcome ref_pop(const GuestMemory& mem, const Config& c, uint16_t last_avail, DescChain* out) {
    uint16_t idx = ref_load16(mem, c.avail + 2);
    if (idx == last_avail) return Outcome::kNone;
    if (static_cast<uint16_t>(idx - last_avail) > c.size) return Outcome::kError;
    uint16_t i = ref_load16(mem, c.avail + 4 + 2ull * (last_avail % c.size));
    if (i >= c.size) return Outcome::kError;
    out->head = i;
    out->count = 0;
    bool writable_seen = false;
    for (;;) {
        if (out->count == c.size) return Outcome::kError;
        virtio::Desc d;
        memcpy(&d, ref_host(mem, c.desc + 16ull * i, 16), 16);
        if (d.flags & virtio::kDescIndirect) return Outcome::kError;
        bool w = (d.flags & virtio::kDescWrite) != 0;
        if (writable_seen && !w) return Outcome::kError;
        writable_seen |= w;
        uint8_t* host = ref_host(mem, d.addr, d.len);
        if (host == nullptr) return Outcome::kError;
        out->bufs[out->count++] = ChainBuffer{host, d.len, w};
        if (!(d.flags & virtio::kDescNext)) return Outcome::kChain;
        if (d.next >= c.size) return Outcome::kError;
        i = d.next;
    }
}

bool in_ram(const GuestMemory& mem, const uint8_t* p, uint32_t len) {
    return within(p, len, mem.range(0).host, mem.range(0).size) ||
           within(p, len, mem.range(1).host, mem.range(1).size);
}

struct Device {
    GuestMemory& mem;
    Config cfg;
    Virtqueue vq;
    bool ready = false;
    uint16_t last_avail = 0;
    uint16_t used_idx = 0;
    DescChain got;
    DescChain want;

    void activate() {
        vq.reset();
        vq.size = cfg.size;
        vq.desc_gpa = cfg.desc;
        vq.avail_gpa = cfg.avail;
        vq.used_gpa = cfg.used;
        auto r = vq.activate(mem, cfg.event_idx);
        ready = r.ok();
        FUZZ_CHECK(ready == ref_activate_ok(mem, cfg));
        FUZZ_CHECK(vq.ready() == ready);
        last_avail = used_idx = 0;
    }

    // One pop; false when the queue is empty or broken.
    bool pop() {
        Outcome expect = ready ? ref_pop(mem, cfg, last_avail, &want) : Outcome::kNone;
        auto r = vq.pop(mem, &got);
        if (!r.ok()) {
            FUZZ_CHECK(expect == Outcome::kError);
            return false;
        }
        FUZZ_CHECK(*r == (expect == Outcome::kChain));
        if (!*r) return false;
        ++last_avail;

        FUZZ_CHECK(got.head == want.head && got.head < cfg.size);
        FUZZ_CHECK(got.count == want.count && got.count >= 1 && got.count <= cfg.size);
        uint32_t written = 0;
        bool writable_seen = false;
        for (uint16_t k = 0; k < got.count; ++k) {
            const ChainBuffer& b = got.bufs[k];
            FUZZ_CHECK(b.data == want.bufs[k].data && b.len == want.bufs[k].len);
            FUZZ_CHECK(b.device_writable == want.bufs[k].device_writable);
            FUZZ_CHECK(in_ram(mem, b.data, b.len));
            FUZZ_CHECK(!writable_seen || b.device_writable);
            writable_seen |= b.device_writable;
            if (b.len == 0) continue;
            // Guest RAM is an mmap that ASan does not track, so the check
            // above is the real one; the ends are read to fault if it lied.
            touch(b.data, 1);
            touch(b.data + b.len - 1, 1);
            if (b.device_writable) {
                // A device fills what it may write, even if that is a ring.
                b.data[0] = 0xa5;
                b.data[b.len - 1] = 0x5a;
                written += b.len;
            }
        }
        vq.push_used(got.head, written);
        ++used_idx;
        // §2.7.8: the element, then the index that publishes it.
        uint8_t* elem = ref_host(mem, cfg.used + 4 + 8ull * ((used_idx - 1) % cfg.size), 8);
        virtio::UsedElem e;
        memcpy(&e, elem, 8);
        FUZZ_CHECK(e.id == got.head && e.len == written);
        FUZZ_CHECK(ref_load16(mem, cfg.used + 2) == used_idx);
        return true;
    }

    void notify() {
        (void)vq.should_interrupt();
        vq.publish_avail_event();
        if (ready && cfg.event_idx) {
            FUZZ_CHECK(ref_load16(mem, cfg.used + 4 + 8ull * cfg.size) == last_avail);
        }
    }
};

uint16_t le16(const uint8_t* p) { return static_cast<uint16_t>(p[0] | p[1] << 8); }
uint64_t le64(const uint8_t* p) {
    uint64_t v = 0;
    for (int i = 7; i >= 0; --i) v = v << 8 | p[i];
    return v;
}

// Guest address of image offset `off` (< 2 * kImageHalf).
uint8_t* image_host(const GuestMemory& mem, size_t off) {
    return off < kImageHalf ? mem.host_base() + off : mem.range(1).host + (off - kImageHalf);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    if (size < kHeaderSize) return 0;
    GuestMemory& mem = memory();
    // Back to all zeroes: dropping the pages of a private anonymous mapping
    // costs only what the last input touched.
    FUZZ_CHECK(madvise(mem.range(0).host, mem.range(0).size, MADV_DONTNEED) == 0);
    FUZZ_CHECK(madvise(mem.range(1).host, mem.range(1).size, MADV_DONTNEED) == 0);

    Config cfg;
    cfg.size = data[0] < 0x80 ? static_cast<uint16_t>(1u << (data[0] % 9)) : le16(data + 2);
    cfg.event_idx = data[1] & 1;
    cfg.desc = le64(data + 4);
    cfg.avail = le64(data + 12);
    cfg.used = le64(data + 20);
    size_t nops = data[28];
    const uint8_t* ops = data + kHeaderSize;
    if (size - kHeaderSize < nops * kOpSize) nops = (size - kHeaderSize) / kOpSize;
    const uint8_t* image = ops + nops * kOpSize;
    size_t image_size = size - kHeaderSize - nops * kOpSize;
    if (image_size > 2 * kImageHalf) image_size = 2 * kImageHalf;
    size_t low = image_size < kImageHalf ? image_size : kImageHalf;
    memcpy(mem.host_base(), image, low);
    memcpy(mem.range(1).host, image + low, image_size - low);

    static Device* dev = new Device{mem, {}, {}, false, 0, 0, {}, {}};
    dev->cfg = cfg;
    dev->activate();

    if (nops == 0) {
        // A device's notify handler: pop until empty or broken. The cap is
        // not an invariant: the device's own writes may land on avail->idx
        // and keep offering chains, which a guest is free to do.
        for (int popped = 0; popped < 1024 && dev->pop(); ++popped) {
        }
        dev->notify();
        return 0;
    }
    for (size_t k = 0; k < nops; ++k) {
        const uint8_t* op = ops + k * kOpSize;
        uint16_t a = le16(op + 1);
        uint16_t b = le16(op + 3);
        switch (op[0] % 4) {
            case 0:
                (void)dev->pop();
                break;
            case 1: {
                size_t off = a % (2 * kImageHalf - 1);  // both bytes in one half
                if (off == kImageHalf - 1) --off;
                memcpy(image_host(mem, off), &b, 2);
                break;
            }
            case 2:
                dev->notify();
                break;
            case 3:
                dev->activate();
                break;
        }
    }
    return 0;
}
