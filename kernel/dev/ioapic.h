// The I/O APIC's redirection table (82093AA data sheet §3.2.4), just enough
// to route a device's interrupt pin to a vector on the boot CPU: kiln-vmm's
// userspace I/O APIC (lib/abi/boot.h, kIoapicGpa) and QEMU's both sit at the
// architectural address. Each register access is an exit: set-up only.
#pragma once

#include <stdint.h>

#include "kiln/result.h"

namespace kiln::dev {

// Routes `pin` to `vector` on APIC 0: fixed delivery, edge-triggered,
// active high, unmasked.
Result<void> ioapic_route(uint32_t pin, uint8_t vector);

}  // namespace kiln::dev
