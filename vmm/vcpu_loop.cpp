#include "vcpu_loop.h"

#include "abi/boot.h"
#include "cpu_state.h"
#include "host_signals.h"
#include "log.h"

#include <errno.h>
#include <linux/kvm.h>
#include <string.h>
#include <sys/ioctl.h>

namespace kiln::vmm {

namespace {

constexpr int kRunning = -1;

// Handles one KVM_EXIT_IO; returns an exit status when the guest asked to
// stop, else kRunning. `rep ins/outs` arrive as count > 1 elements.
int handle_io(Machine& m, const struct kvm_run* run) {
    uint16_t port = run->io.port;
    uint8_t size = run->io.size;
    // SAFETY: data_offset points inside the kvm_run mapping, which KVM sizes
    // to hold size * count bytes of I/O data.
    uint8_t* data = reinterpret_cast<uint8_t*>(const_cast<struct kvm_run*>(run)) +
                    run->io.data_offset;
    bool out = run->io.direction == KVM_EXIT_IO_OUT;
    if (port == abi::kPortExit && out) {
        uint32_t v = 0;
        memcpy(&v, data, size <= 4 ? size : 4);
        return static_cast<int>(v & 0xff);
    }
    if (port == abi::kPortHostSignals && !out && size == 4 && run->io.count == 1) {
        uint32_t pending = take_host_signals();
        memcpy(data, &pending, 4);
        return kRunning;
    }
    if (port == abi::kPortConsole && out && size == 4 && run->io.count == 1) {
        uint32_t gpa = 0;
        memcpy(&gpa, data, 4);
        m.console_port.handle(gpa);
        return kRunning;
    }
    bool uart = port >= abi::kPortCom1 && port < abi::kPortCom1 + 8;
    if (!uart) ++m.counters.unknown_ports;  // port 0x80 delays and the like
    for (uint32_t i = 0; i < run->io.count; ++i, data += size) {
        if (uart && out) {
            m.uart.out(port - abi::kPortCom1, data[0]);
        } else if (uart) {
            memset(data, 0, size);
            data[0] = m.uart.in(port - abi::kPortCom1);
        } else if (!out) {
            memset(data, 0xff, size);  // an ISA bus with nothing on it
        }
    }
    return kRunning;
}

void handle_mmio(Machine& m, struct kvm_run* run) {
    uint64_t addr = run->mmio.phys_addr;
    uint32_t len = run->mmio.len <= 8 ? run->mmio.len : 8;
    uint64_t end = abi::kVirtioMmioBase + m.device_count * abi::kVirtioMmioStride;
    if (addr >= abi::kVirtioMmioBase && addr < end) {
        uint64_t off = addr - abi::kVirtioMmioBase;
        VirtioMmio* dev = m.devices[off / abi::kVirtioMmioStride];
        off %= abi::kVirtioMmioStride;
        if (off + len <= abi::kVirtioMmioStride) {
            if (run->mmio.is_write) {
                dev->write(off, run->mmio.data, len);
            } else {
                dev->read(off, run->mmio.data, len);
            }
            return;
        }
    }
    if (addr >= kIoapicBase && addr - kIoapicBase < kIoapicSize) {
        if (run->mmio.is_write) {
            m.ioapic.write(addr - kIoapicBase, run->mmio.data, len);
        } else {
            m.ioapic.read(addr - kIoapicBase, run->mmio.data, len);
        }
        return;
    }
    ++m.counters.unknown_ports;
    if (!run->mmio.is_write) memset(run->mmio.data, 0xff, len);
}

int crash(Machine& m, const char* fmt, unsigned long long a = 0, unsigned long long b = 0) {
    m.uart.flush();
    log(fmt, a, b);
    dump_registers(m.vm);
    return abi::kStatusGuestCrashed;
}

}  // namespace

int run_vcpu(Machine& m) {
    struct kvm_run* run = m.vm.run;
    for (;;) {
        int rc = ioctl(m.vm.vcpu_fd, KVM_RUN, 0);
        ++m.counters.exits;
        if (int sig = forward_host_signals(); sig != 0) {
            // The guest never took host signals: end as the process would.
            m.uart.flush();
            return 128 + sig;
        }
        if (rc != 0) {
            if (errno == EINTR || errno == EAGAIN) {
                ++m.counters.other;
                continue;
            }
            return crash(m, "KVM_RUN failed (errno %llu); the guest cannot continue",
                         static_cast<unsigned long long>(errno));
        }
        switch (run->exit_reason) {
            case KVM_EXIT_IO: {
                ++m.counters.io;
                int status = handle_io(m, run);
                if (status != kRunning) return status;
                break;
            }
            case KVM_EXIT_MMIO:
                ++m.counters.mmio;
                handle_mmio(m, run);
                break;
            case KVM_EXIT_IOAPIC_EOI:
                // Only for level-triggered routes, which kiln-vmm does not install.
                ++m.counters.other;
                break;
            case KVM_EXIT_HLT:
                // With KVM's local APIC, KVM sleeps on HLT itself; an exit
                // means nothing can ever wake the vCPU.
                ++m.counters.hlt;
                return crash(m, "guest halted with nothing to wake it (hlt with interrupts "
                                "disabled?)");
            case KVM_EXIT_SHUTDOWN:
                ++m.counters.other;
                return crash(m, "guest triple-faulted (kernel crash before its fault handler "
                                "was ready)");
            case KVM_EXIT_FAIL_ENTRY:
                ++m.counters.other;
                return crash(m, "KVM could not enter the guest (hardware entry failure 0x%llx)",
                             run->fail_entry.hardware_entry_failure_reason);
            case KVM_EXIT_INTERNAL_ERROR:
                ++m.counters.other;
                return crash(m, run->internal.suberror == KVM_INTERNAL_ERROR_EMULATION
                                    ? "KVM could not emulate a guest instruction (internal "
                                      "error %llu); the guest crashed"
                                    : "KVM internal error (suberror %llu) running the guest",
                             run->internal.suberror);
            case KVM_EXIT_SYSTEM_EVENT:
                ++m.counters.other;
                return crash(m, "guest requested a system event (type %llu) without an exit "
                                "status", run->system_event.type);
            default:
                ++m.counters.other;
                return crash(m, "unexpected KVM exit reason %llu", run->exit_reason);
        }
    }
}

}  // namespace kiln::vmm
