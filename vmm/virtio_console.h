// virtio-console (virtio 1.2 §5.3), single port, no features beyond the
// transport's: receiveq0 (queue 0, host -> guest) and transmitq0 (queue 1,
// guest -> host). Transmitted bytes go to kiln-vmm's stdout, the program's
// output stream.
#pragma once

#include <stdint.h>

#include "virtio_mmio.h"

namespace kiln::vmm {

class VirtioConsole final : public VirtioDevice {
public:
    explicit VirtioConsole(int out_fd) : out_fd_(out_fd) {}

    const char* name() const override { return "console"; }
    uint32_t device_id() const override;
    uint64_t features() const override { return 0; }
    uint16_t queue_count() const override { return 2; }
    Bytes config() const override;
    Result<void> notify(VirtioMmio& transport, uint16_t q) override;

private:
    Result<void> transmit(VirtioMmio& transport);

    int out_fd_;
    bool out_broken_ = false;  // stdout refused a write: drop further output
    // struct virtio_console_config (§5.3.4): cols, rows, max_nr_ports,
    // emerg_wr. Without SIZE/MULTIPORT/EMERG_WRITE the driver reads none of it.
    uint8_t config_[12] = {};
};

}  // namespace kiln::vmm
