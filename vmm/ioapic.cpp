// 82093AA I/O APIC: IOREGSEL at 0x00, IOWIN at 0x10; registers 0 (ID),
// 1 (version: 24 entries), 2 (arbitration), 0x10 + 2n (redirection entry n,
// low and high halves). MSI format: Intel SDM vol. 3, §11.11.
#include "ioapic.h"

#include "log.h"
#include "kvm_abi.h"

#include <string.h>

namespace kiln::vmm {

namespace {

constexpr uint64_t kRegSelect = 0x00, kRegWindow = 0x10, kRegEoi = 0x40;
constexpr uint32_t kVersion = 0x11 | ((kIoapicPins - 1) << 16);

}  // namespace

void Ioapic::read(uint64_t offset, uint8_t* data, uint32_t len) {
    std::lock_guard<std::mutex> guard(lock_);
    uint32_t v = 0;
    if (offset == kRegSelect) v = select_;
    if (offset == kRegWindow) v = read_register(select_);
    for (uint32_t i = 0; i < len; ++i) data[i] = i < 4 ? static_cast<uint8_t>(v >> (8 * i)) : 0;
}

void Ioapic::write(uint64_t offset, const uint8_t* data, uint32_t len) {
    uint32_t v = 0;
    for (uint32_t i = 0; i < len && i < 4; ++i) v |= static_cast<uint32_t>(data[i]) << (8 * i);
    std::lock_guard<std::mutex> guard(lock_);
    if (offset == kRegSelect) {
        select_ = v & 0xff;
    } else if (offset == kRegWindow) {
        write_register(select_, v);
    }
    // kRegEoi (version 0x20 directed EOI) is not offered: version 0x11.
    (void)kRegEoi;
}

uint32_t Ioapic::read_register(uint32_t index) const {
    if (index == 0) return id_;
    if (index == 1) return kVersion;
    if (index == 2) return id_;
    if (index >= 0x10 && index < 0x10 + 2 * kIoapicPins) {
        uint64_t e = redirection_[(index - 0x10) / 2];
        return index % 2 == 0 ? static_cast<uint32_t>(e) : static_cast<uint32_t>(e >> 32);
    }
    return 0;
}

void Ioapic::write_register(uint32_t index, uint32_t value) {
    if (index == 0) {
        id_ = value & 0x0f000000;
        return;
    }
    if (index < 0x10 || index >= 0x10 + 2 * kIoapicPins) return;
    uint32_t pin = (index - 0x10) / 2;
    uint64_t& e = redirection_[pin];
    // Delivery status (bit 12) and remote IRR (bit 14) are read-only.
    constexpr uint64_t kReadOnly = (1ull << 12) | (1ull << 14);
    if (index % 2 == 0) {
        e = (e & (0xffffffff00000000ull | kReadOnly)) | (value & ~kReadOnly);
    } else {
        e = (e & 0xffffffffull) | (static_cast<uint64_t>(value) << 32);
    }
    // Unmasking a pin that is held high delivers it now (level semantics).
    if (!(e & kMasked) && level_[pin]) deliver(pin);
}

void Ioapic::set_level(uint32_t pin, bool high) {
    if (pin >= kIoapicPins) return;
    std::lock_guard<std::mutex> guard(lock_);
    level_[pin] = high;
    if (high && !(redirection_[pin] & kMasked)) deliver(pin);
}

void Ioapic::deliver(uint32_t pin) {
    uint64_t e = redirection_[pin];
    uint32_t vector = e & 0xff;
    uint32_t delivery_mode = (e >> 8) & 7;
    uint32_t dest_mode = (e >> 11) & 1;
    uint32_t trigger = (e >> 15) & 1;
    uint32_t dest = static_cast<uint32_t>(e >> 56);
    if (vector < 16 && delivery_mode == 0) return;  // reserved vectors: never delivered
    // FIXME: level-triggered entries are delivered like edge ones; remote IRR
    // and EOI (KVM_EXIT_IOAPIC_EOI with GSI routes) are not modelled, which
    // only matters for drivers that rely on re-delivery of a held line.
    struct kvm_msi msi = {};
    msi.address_lo = 0xfee00000u | (dest << 12) | (dest_mode << 2);
    msi.address_hi = 0;
    msi.data = vector | (delivery_mode << 8) | (trigger << 15) | (1u << 14);
    if (ioctl(vm_fd_, KVM_SIGNAL_MSI, &msi) < 0) log("KVM_SIGNAL_MSI for pin %u failed", pin);
}

}  // namespace kiln::vmm
