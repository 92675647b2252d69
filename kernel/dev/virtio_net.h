// virtio-net (virtio 1.2 §5.1) over MMIO: one receiveq/transmitq pair,
// the stack's net::Device. Features: VERSION_1, MAC, CSUM (the device
// finishes transmit checksums), GUEST_CSUM (received packets may carry a
// partial or verified checksum), MRG_RXBUF, EVENT_IDX, STATUS.
//
// Every kick and every interrupt costs a VM exit (~20 us on kvm-pvm), so:
// receive buffers are refilled in batches with one kick per batch;
// transmit() only queues, and flush() kicks once per burst; transmit
// completions are reaped lazily (no transmit interrupts); the receive
// interrupt is re-enabled only once the ring is drained (EVENT_IDX).
//
// The interrupt handler does the minimum (acknowledge, note it, tell the
// owner); the frames are taken in system-call context by poll().
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "arch/x86_64/traps.h"
#include "dev/virtio_mmio.h"
#include "dev/virtqueue.h"
#include "net/api.h"

namespace kiln::dev {

class VirtioNet final : public net::Device {
public:
    // Finds and starts the first virtio-net device on the command line;
    // nullptr when there is none (or it cannot be driven: logged).
    // on_interrupt runs in interrupt context after each interrupt.
    static VirtioNet* probe(const char* cmdline, void (*on_interrupt)());

    net::MacAddr mac() const override { return mac_; }
    uint16_t mtu() const override { return 1500; }
    bool tx_csum_offload() const override { return csum_offload_; }
    Result<void> transmit(const net::TxFrame& frame) override;

    // Hands every received frame to deliver(ctx, frame, csum_valid),
    // refills the receive ring and re-arms the interrupt. Returns the
    // frames delivered. System-call context, interrupts masked.
    size_t poll(void (*deliver)(void* ctx, Span<const uint8_t> frame, bool csum_valid), void* ctx);
    // One kick for the frames transmit() queued since the last flush.
    void flush();
    bool link_up() const;

    // For mm::make only; the virtual destructor needs an operator delete,
    // and the kernel has no global one (mm::destroy frees to the heap).
    VirtioNet() = default;
    static void operator delete(void* p);

private:
    Result<void> start(const char* cmdline);
    void refill();
    void reap_tx();
    static void on_irq(arch::TrapFrame&);

    VirtioMmio transport_;
    Virtqueue rxq_, txq_;
    uint64_t rx_phys_ = 0, tx_phys_ = 0;
    uint8_t* rx_mem_ = nullptr;
    uint8_t* tx_mem_ = nullptr;
    uint8_t* assembly_ = nullptr;  // a frame spread over several buffers
    net::MacAddr mac_;
    bool csum_offload_ = false;
    bool status_feature_ = false;
    bool tx_pending_ = false;  // queued since the last flush
    bool ack_interrupts_ = true;
    uint64_t dropped_ = 0;
    void (*on_interrupt_)() = nullptr;
};

}  // namespace kiln::dev
