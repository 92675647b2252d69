// virtio 1.2 over MMIO: the register layout (spec §4.2.2), the split
// virtqueue (§2.7) and the device numbers kiln uses. Shared by kiln-vmm's
// device models and the kernel's drivers. All fields little-endian (x86).
#pragma once

#include <stdint.h>

namespace kiln::virtio {

// ---- MMIO transport registers (§4.2.2, "modern" version 2) ----
inline constexpr uint32_t kMagic = 0x74726976;  // "virt"
inline constexpr uint32_t kMmioVersion = 2;
enum MmioReg : uint32_t {
    kRegMagic = 0x000,
    kRegVersion = 0x004,
    kRegDeviceId = 0x008,
    kRegVendorId = 0x00c,
    kRegDeviceFeatures = 0x010,
    kRegDeviceFeaturesSel = 0x014,
    kRegDriverFeatures = 0x020,
    kRegDriverFeaturesSel = 0x024,
    kRegQueueSel = 0x030,
    kRegQueueNumMax = 0x034,
    kRegQueueNum = 0x038,
    kRegQueueReady = 0x044,
    kRegQueueNotify = 0x050,
    kRegInterruptStatus = 0x060,
    kRegInterruptAck = 0x064,
    kRegStatus = 0x070,
    kRegQueueDescLow = 0x080,
    kRegQueueDescHigh = 0x084,
    kRegQueueDriverLow = 0x090,
    kRegQueueDriverHigh = 0x094,
    kRegQueueDeviceLow = 0x0a0,
    kRegQueueDeviceHigh = 0x0a4,
    kRegConfigGeneration = 0x0fc,
    kRegConfig = 0x100,
};
inline constexpr uint32_t kMmioSize = 0x200;

// kiln-vmm's VendorID ("KILN"). Its devices deliver an interrupt for every
// raise, whether or not the driver acknowledged the last one, so a driver
// that sees this vendor may skip InterruptACK (a VM exit per interrupt);
// other transports keep the line high until it is acknowledged.
inline constexpr uint32_t kKilnVendorId = 0x4e4c494b;

// Device status bits (§2.1).
inline constexpr uint32_t kStatusAcknowledge = 1;
inline constexpr uint32_t kStatusDriver = 2;
inline constexpr uint32_t kStatusDriverOk = 4;
inline constexpr uint32_t kStatusFeaturesOk = 8;
inline constexpr uint32_t kStatusNeedsReset = 64;
inline constexpr uint32_t kStatusFailed = 128;

// InterruptStatus bits (§4.2.2).
inline constexpr uint32_t kIntUsedBuffer = 1;
inline constexpr uint32_t kIntConfigChange = 2;

// Feature bits (§6).
inline constexpr uint64_t kFeatureIndirectDesc = 1ull << 28;
inline constexpr uint64_t kFeatureEventIdx = 1ull << 29;
inline constexpr uint64_t kFeatureVersion1 = 1ull << 32;

// Device IDs (§5).
inline constexpr uint32_t kDeviceNet = 1;
inline constexpr uint32_t kDeviceBlock = 2;
inline constexpr uint32_t kDeviceConsole = 3;

// ---- split virtqueue (§2.7) ----
inline constexpr uint16_t kDescNext = 1;
inline constexpr uint16_t kDescWrite = 2;
inline constexpr uint16_t kDescIndirect = 4;

struct Desc {
    uint64_t addr;
    uint32_t len;
    uint16_t flags;
    uint16_t next;
};
static_assert(sizeof(Desc) == 16);

// Followed by ring[queue_size] (u16) and, with EVENT_IDX, used_event (u16).
struct AvailHeader {
    uint16_t flags;  // kAvailNoInterrupt
    uint16_t idx;
};
inline constexpr uint16_t kAvailNoInterrupt = 1;

struct UsedElem {
    uint32_t id;
    uint32_t len;
};
// Followed by ring[queue_size] (UsedElem) and, with EVENT_IDX, avail_event (u16).
struct UsedHeader {
    uint16_t flags;  // kUsedNoNotify
    uint16_t idx;
};
inline constexpr uint16_t kUsedNoNotify = 1;

// Sizes of the three parts of a split queue of n entries (§2.7).
constexpr uint64_t desc_table_size(uint32_t n) {
    return 16ull * n;
}
constexpr uint64_t avail_ring_size(uint32_t n) {
    return 6ull + 2ull * n;
}
constexpr uint64_t used_ring_size(uint32_t n) {
    return 6ull + 8ull * n;
}

// §2.7.10: true when the other side asked to be notified for new_idx.
constexpr bool need_event(uint16_t event_idx, uint16_t new_idx, uint16_t old_idx) {
    return static_cast<uint16_t>(new_idx - event_idx - 1) <
           static_cast<uint16_t>(new_idx - old_idx);
}

// ---- console (§5.3) ----
inline constexpr uint32_t kConsoleReceiveq = 0;
inline constexpr uint32_t kConsoleTransmitq = 1;
inline constexpr uint64_t kConsoleFeatureSize = 1ull << 0;
inline constexpr uint64_t kConsoleFeatureMultiport = 1ull << 1;

// ---- network device (§5.1) ----
inline constexpr uint32_t kNetReceiveq = 0;
inline constexpr uint32_t kNetTransmitq = 1;
inline constexpr uint64_t kNetFeatureCsum = 1ull << 0;       // device finishes partial checksums
inline constexpr uint64_t kNetFeatureGuestCsum = 1ull << 1;  // driver accepts partial checksums
inline constexpr uint64_t kNetFeatureMac = 1ull << 5;        // config.mac is valid
inline constexpr uint64_t kNetFeatureGuestTso4 = 1ull << 7;  // driver takes TCPv4 GSO packets
inline constexpr uint64_t kNetFeatureGuestTso6 = 1ull << 8;  // driver takes TCPv6 GSO packets
inline constexpr uint64_t kNetFeatureHostTso4 = 1ull << 11;  // device segments TCPv4 GSO packets
inline constexpr uint64_t kNetFeatureHostTso6 = 1ull << 12;  // device segments TCPv6 GSO packets
inline constexpr uint64_t kNetFeatureMrgRxbuf = 1ull << 15;  // a packet may span receive buffers
inline constexpr uint64_t kNetFeatureStatus = 1ull << 16;    // config.status is valid

// struct virtio_net_hdr (§5.1.6): with VERSION_1 it always has num_buffers,
// 12 bytes, at the start of every packet in both directions.
struct NetHdr {
    uint8_t flags;        // kNetHdrNeedsCsum, kNetHdrDataValid
    uint8_t gso_type;     // kNetGsoNone, or TCPv4/TCPv6 with the TSO features
    uint16_t hdr_len;
    uint16_t gso_size;
    uint16_t csum_start;   // NEEDS_CSUM: checksum [csum_start, end) ...
    uint16_t csum_offset;  // ... and store it at csum_start + csum_offset
    uint16_t num_buffers;  // receive: buffers this packet spans (1 without MRG_RXBUF)
};
static_assert(sizeof(NetHdr) == 12);
inline constexpr uint8_t kNetHdrNeedsCsum = 1;
inline constexpr uint8_t kNetHdrDataValid = 2;
inline constexpr uint8_t kNetGsoNone = 0;
inline constexpr uint8_t kNetGsoTcpv4 = 1;
inline constexpr uint8_t kNetGsoTcpv6 = 4;
inline constexpr uint8_t kNetGsoEcn = 0x80;

// struct virtio_net_config (§5.1.4), the fields kiln-vmm offers.
struct NetConfig {
    uint8_t mac[6];
    uint16_t status;  // kNetStatusLinkUp
};
static_assert(sizeof(NetConfig) == 8);
inline constexpr uint16_t kNetStatusLinkUp = 1;

}  // namespace kiln::virtio
