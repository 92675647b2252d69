#include "dev/virtio_mmio.h"

#include "arch/x86_64/paging.h"
#include "kiln/cmdline.h"
#include "klog.h"

namespace kiln::dev {

Result<void> VirtioMmio::find(const char* cmdline, uint32_t device_id) {
    VirtioMmioDevices devices(cmdline);
    while (devices.next()) {
        auto d = devices.device();
        if (!d.ok()) {
            klog::warn("kiln: ignoring malformed virtio_mmio.device=%.*s",
                       int(devices.raw().size()), devices.raw().data());
            continue;
        }
        auto regs = arch::map_mmio(d->base, virtio::kMmioSize);
        if (!regs.ok()) return Error(regs.error());
        regs_ = *regs;
        // The device ID first: each read is an exit, and other devices
        // need no more than this one.
        if (read(virtio::kRegDeviceId) != device_id) continue;
        if (read(virtio::kRegMagic) != virtio::kMagic) continue;
        if (read(virtio::kRegVersion) != virtio::kMmioVersion) {
            klog::warn("kiln: virtio-mmio device at 0x%lx is legacy (version 1); not supported",
                       d->base);
            continue;
        }
        irq_ = d->irq;
        return {};
    }
    regs_ = nullptr;
    return Error(Errno::kENODEV);
}

void VirtioMmio::fail() {
    status_ |= virtio::kStatusFailed;
    write(virtio::kRegStatus, status_);
}

Result<uint64_t> VirtioMmio::negotiate(uint64_t wanted) {
    write(virtio::kRegStatus, 0);  // reset
    status_ = virtio::kStatusAcknowledge | virtio::kStatusDriver;
    write(virtio::kRegStatus, status_);
    write(virtio::kRegDeviceFeaturesSel, 1);
    uint64_t offered = uint64_t(read(virtio::kRegDeviceFeatures)) << 32;
    const uint32_t wanted_lo = uint32_t(wanted);
    if (wanted_lo) {
        write(virtio::kRegDeviceFeaturesSel, 0);
        offered |= read(virtio::kRegDeviceFeatures);
    }
    if (!(offered & virtio::kFeatureVersion1)) {
        fail();
        return Error(Errno::kENODEV);
    }
    const uint64_t accepted = (wanted & offered) | virtio::kFeatureVersion1;
    write(virtio::kRegDriverFeaturesSel, 1);
    write(virtio::kRegDriverFeatures, uint32_t(accepted >> 32));
    if (uint32_t(accepted)) {
        write(virtio::kRegDriverFeaturesSel, 0);
        write(virtio::kRegDriverFeatures, uint32_t(accepted));
    }
    status_ |= virtio::kStatusFeaturesOk;
    write(virtio::kRegStatus, status_);
    if (!(read(virtio::kRegStatus) & virtio::kStatusFeaturesOk)) {
        fail();
        return Error(Errno::kENODEV);
    }
    return accepted;
}

Result<void> VirtioMmio::setup_queue(uint32_t index, Virtqueue& q, uint16_t max_size) {
    write(virtio::kRegQueueSel, index);
    uint32_t max = read(virtio::kRegQueueNumMax);
    if (max == 0) return Error(Errno::kENODEV);
    uint16_t size = max_size;
    while (size > max) size = uint16_t(size / 2);
    TRY(q.init(size));
    write(virtio::kRegQueueNum, size);
    // High halves are zero after reset; RAM sits below 4 GiB unless the
    // guest is larger, so write them only when needed.
    auto write64 = [this](uint32_t lo_reg, uint64_t v) {
        write(lo_reg, uint32_t(v));
        if (v >> 32) write(lo_reg + 4, uint32_t(v >> 32));
    };
    write64(virtio::kRegQueueDescLow, q.desc_phys());
    write64(virtio::kRegQueueDriverLow, q.avail_phys());
    write64(virtio::kRegQueueDeviceLow, q.used_phys());
    write(virtio::kRegQueueReady, 1);
    return {};
}

void VirtioMmio::driver_ok() {
    status_ |= virtio::kStatusDriverOk;
    write(virtio::kRegStatus, status_);
}

}  // namespace kiln::dev
