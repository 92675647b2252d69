// kiln-vmm: boots one kernel ELF in a KVM virtual machine and exits with the
// guest's status. Set-up order: check every input (options, kernel, initrd,
// command line) before touching KVM, build the VM, confine the process with
// seccomp, then run the vCPU until the guest ends.
#include "abi/boot.h"
#include "boot_setup.h"
#include "console_port.h"
#include "cpu_state.h"
#include "guest_memory.h"
#include "host_signals.h"
#include "ioapic.h"
#include "kernel_image.h"
#include "kvm_vm.h"
#include "log.h"
#include "net_backend.h"
#include "net_io.h"
#include "options.h"
#include "seccomp_filter.h"
#include "stats.h"
#include "uart.h"
#include "vcpu_loop.h"
#include "virtio_console.h"
#include "virtio_mmio.h"
#include "virtio_net.h"

#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

using namespace kiln;
using namespace kiln::vmm;

int main(int argc, char** argv) {
    Options opt = parse_options(argc, argv);
    KernelImage kernel = open_kernel(opt.kernel);
    Initrd initrds[kMaxInitrds];
    for (int i = 0; i < opt.initrd_count; ++i) initrds[i] = open_initrd(opt.initrds[i]);
    place_initrds(initrds, opt.initrd_count,
                  opt.mem < abi::kMmioHoleStart ? opt.mem : abi::kMmioHoleStart, kernel.load_end);
    // Slot 0 is the console; the network device, only when asked for, is
    // slot 1 (lib/abi/boot.h).
    constexpr uint32_t kMaxVirtioDevices = 2;
    const bool net = opt.net.mode != NetMode::kNone;
    const uint32_t virtio_devices = net ? 2 : 1;
    static char cmdline[abi::kCmdlineMax];
    const char* user_cmdline = opt.cmdline;
    static char with_net[abi::kCmdlineMax];
    if (opt.net.mode == NetMode::kUser && strstr(opt.cmdline, "kiln.net=") == nullptr &&
        strstr(opt.cmdline, "kiln.ip=") == nullptr) {
        snprintf(with_net, sizeof(with_net), "%s%s%s", opt.cmdline, *opt.cmdline ? " " : "",
                 kUserNetKernelArgs);
        user_cmdline = with_net;
    }
    build_cmdline(user_cmdline, virtio_devices, cmdline);
    // The backend first: kiln-slirp starts up while the VM is built.
    NetBackend* backend = nullptr;
    if (opt.net.mode == NetMode::kTap) backend = open_tap_backend(opt.net.tap_name);
    if (opt.net.mode == NetMode::kUser) backend = start_user_backend(opt.net);

    int kvm_fd = open_kvm();
    auto created = GuestMemory::create(opt.mem);
    if (!created.ok()) {
        fatal("cannot reserve %llu MiB of address space for guest RAM; try a smaller --mem",
              static_cast<unsigned long long>(opt.mem >> 20));
    }
    GuestMemory& mem = *created;
    // Guest RAM is filled before the VM exists. (A second thread that filled
    // it while KVM built the VM was measured: it helps only while other work
    // keeps both CPUs busy; on an idle machine waking the other CPU costs
    // more than the overlap saves, ~80 us per boot.)
    load_kernel(kernel, mem);
    for (int i = 0; i < opt.initrd_count; ++i) load_initrd(initrds[i], mem);
    write_page_tables(mem);
    write_gdt(mem);
    write_start_info(mem, cmdline, initrds, opt.initrd_count);
    Vm vm = create_vm(kvm_fd, mem);
    // The kernel's own page tables when it asks for them (they depend on
    // whether this is kvm-pvm, known only now); else the boot tables.
    KernelTables tables;
    const bool kernel_tables = write_kernel_tables(mem, kernel, vm.pvm, &tables);
    set_entry_state(vm, kernel, kernel_tables ? &tables : nullptr);

    Uart16550 uart(STDERR_FILENO, opt.quiet_log);
    Ioapic ioapic(vm.vm_fd);
    ConsolePort console_port(mem, STDIN_FILENO, STDOUT_FILENO, STDERR_FILENO);
    VirtioConsole console(STDOUT_FILENO);
    VirtioMmio console_mmio(mem, ioapic, abi::kVirtioIrqBase, console);
    VirtioMmio* devices[kMaxVirtioDevices] = {&console_mmio, nullptr};
    int kick_fd = -1;
    if (net) {
        kick_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
        if (kick_fd < 0) fatal("cannot create the network device's eventfd");
    }
    static VirtioNet* net_dev = nullptr;
    static VirtioMmio* net_mmio = nullptr;
    static NetIo* net_io = nullptr;
    if (net) {
        net_dev = new VirtioNet(opt.net.mac, *backend, kick_fd);
        net_mmio = new VirtioMmio(mem, ioapic, abi::kVirtioIrqBase + 1, *net_dev);
        net_io = new NetIo{*net_mmio, *net_dev, *backend, kick_fd};
        devices[1] = net_mmio;
        start_net_io(net_io);
    }
    Stats stats;
    if (opt.stats) stats.prepare(mem);
    // A reader that goes away must not kill the VM: writes fail with EPIPE
    // and the output is dropped instead.
    signal(SIGPIPE, SIG_IGN);

    catch_host_signals(vm.run, vm.vm_fd);
    install_seccomp();
    if (opt.debug_seccomp_violation) seccomp_violation();

    Machine machine{vm, uart, console_port, ioapic, devices, virtio_devices, {}};
    int status = run_vcpu(machine);
    // Packets the guest queued just before it ended (a server's last
    // response) still go out: the I/O thread may not have seen them yet.
    if (net_io != nullptr) flush_net_io(net_io);
    uart.flush();
    if (opt.stats) stats.print(mem, machine.counters);
    if (opt.stats && net_io != nullptr) print_net_stats(net_io);
    // _exit: nothing to flush, and the kernel tears the VM down faster than
    // closing its descriptors one by one would.
    _exit(status);
}
