#include "dev/ioapic.h"

#include "abi/boot.h"
#include "arch/x86_64/paging.h"

namespace kiln::dev {
namespace {

constexpr uint32_t kRegSelect = 0x00, kRegWindow = 0x10;
constexpr uint32_t kRedirectionBase = 0x10;
constexpr uint32_t kPins = 24;

volatile uint8_t* g_regs = nullptr;

void write_reg(uint32_t index, uint32_t value) {
    *reinterpret_cast<volatile uint32_t*>(g_regs + kRegSelect) = index;
    *reinterpret_cast<volatile uint32_t*>(g_regs + kRegWindow) = value;
}

}  // namespace

Result<void> ioapic_route(uint32_t pin, uint8_t vector) {
    if (pin >= kPins || vector < 32) return Error(Errno::kEINVAL);
    if (g_regs == nullptr) g_regs = TRY(arch::map_mmio(abi::kIoapicGpa, 0x1000));
    // The high half (destination) resets to 0, the boot CPU's APIC ID:
    // only the low half is written, which also unmasks the pin.
    write_reg(kRedirectionBase + 2 * pin, vector);
    return {};
}

}  // namespace kiln::dev
