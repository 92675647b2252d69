#include "cpu_state.h"

#include "abi/boot.h"
#include "boot_setup.h"
#include "log.h"

#include <errno.h>
#include <linux/kvm.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>

namespace kiln::vmm {

namespace {

constexpr uint64_t kCr0Pe = 1u << 0, kCr0Mp = 1u << 1, kCr0Et = 1u << 4, kCr0Ne = 1u << 5;
constexpr uint64_t kCr0Wp = 1u << 16, kCr0Am = 1u << 18, kCr0Pg = 1u << 31;
constexpr uint64_t kCr4Pae = 1u << 5, kCr4Osfxsr = 1u << 9, kCr4Osxmmexcpt = 1u << 10;
constexpr uint64_t kCr4Osxsave = 1u << 18;
// x87, SSE, AVX and AVX-512 state: what applications use without asking
// (AMX needs arch_prctl permission; PKRU needs pkeys support).
constexpr uint64_t kXcr0Wanted = 0x1 | 0x2 | 0x4 | 0x20 | 0x40 | 0x80;
constexpr uint64_t kEferSce = 1u << 0, kEferLme = 1u << 8, kEferLma = 1u << 10;
constexpr uint64_t kEferNxe = 1u << 11;

// A flat segment: base 0, limit 4 GiB, present, DPL 0.
struct kvm_segment flat(uint16_t selector, bool code, bool long_mode) {
    struct kvm_segment s = {};
    s.base = 0;
    s.limit = 0xffffffff;
    s.selector = selector;
    s.type = code ? 11 : 3;  // execute/read accessed, or read/write accessed
    s.present = 1;
    s.dpl = 0;
    s.db = long_mode && code ? 0 : 1;
    s.s = 1;
    s.l = long_mode && code ? 1 : 0;
    s.g = 1;
    return s;
}

void check(int rc, const char* what) {
    if (rc != 0) fatal("%s failed: %s", what, strerror(errno));
}

}  // namespace

void set_entry_state(const Vm& vm, const KernelImage& image, const KernelTables* tables) {
    struct kvm_sregs sregs;
    check(ioctl(vm.vcpu_fd, KVM_GET_SREGS, &sregs), "KVM_GET_SREGS");
    struct kvm_regs regs = {};
    regs.rflags = 0x2;
    sregs.gdt.base = kBootGdtGpa;
    sregs.gdt.limit = kGdtEntries * 8 - 1;
    sregs.idt.base = 0;
    sregs.idt.limit = 0;
    // TR: a busy 32/64-bit TSS at 0 (PVH asks for limit 0x67); the kernel
    // loads its own.
    sregs.tr.base = 0;
    sregs.tr.limit = 0x67;
    sregs.tr.type = 11;
    sregs.tr.present = 1;
    sregs.tr.s = 0;

    if (image.kind == EntryKind::kLong64) {
        sregs.cs = flat(kSelCode64, true, true);
        sregs.ds = sregs.es = sregs.fs = sregs.gs = sregs.ss = flat(kSelData, false, true);
        sregs.cr0 = kCr0Pe | kCr0Mp | kCr0Et | kCr0Ne | kCr0Wp | kCr0Am | kCr0Pg;
        sregs.cr3 = abi::kBootPml4Gpa;
        sregs.cr4 = kCr4Pae | kCr4Osfxsr | kCr4Osxmmexcpt;
        // AVX for the application: XSAVE on with XCR0 set here, so the
        // kernel needs no trapping CR4 write or xsetbv of its own.
        const uint64_t xcr0 = supported_xcr0() & kXcr0Wanted;
        if (xcr0 & 0x2) {
            sregs.cr4 |= kCr4Osxsave;
            struct kvm_xcrs xcrs = {};
            xcrs.nr_xcrs = 1;
            xcrs.xcrs[0].xcr = 0;
            xcrs.xcrs[0].value = xcr0 | 0x1;
            check(ioctl(vm.vcpu_fd, KVM_SET_XCRS, &xcrs), "KVM_SET_XCRS");
        }
        sregs.efer = kEferSce | kEferLme | kEferLma | kEferNxe;
        regs.rip = image.entry;
        regs.rsi = abi::kStartInfoGpa;
        regs.rdi = abi::kBootFlagConsolePort | abi::kBootFlagHostSignals |
                   (vm.pvm ? abi::kBootFlagPvm : 0);
        if (image.has_descriptors) {
            // The kernel's own tables, same selectors as the boot GDT: it
            // fills them and loads nothing (each load traps on kvm-pvm).
            const abi::KilnDescriptorNote& d = image.descriptors;
            sregs.gdt.base = d.gdt;
            sregs.gdt.limit = d.gdt_limit;
            sregs.idt.base = d.idt;
            sregs.idt.limit = d.idt_limit;
            sregs.tr.base = d.tss;
            sregs.tr.limit = d.tss_limit;
            sregs.tr.selector = abi::kKilnTssSelector;
            regs.rdi |= abi::kBootFlagDescriptors;
        }
        if (tables != nullptr) {
            sregs.cr3 = tables->root;
            regs.rdx = tables->end;
            regs.rdi |= abi::kBootFlagKernelTables;
        }
        regs.rsp = 0;
    } else {
        // PVH (xen/include/public/arch-x86/hvm/start_info.h): 32-bit protected
        // mode, paging off, flat segments, EBX = start info.
        sregs.cs = flat(kSelCode32, true, false);
        sregs.ds = sregs.es = sregs.fs = sregs.gs = sregs.ss = flat(kSelData, false, false);
        sregs.cr0 = kCr0Pe | kCr0Et;
        sregs.cr3 = 0;
        sregs.cr4 = 0;
        sregs.efer = 0;
        regs.rip = image.entry;
        regs.rbx = abi::kStartInfoGpa;
    }
    check(ioctl(vm.vcpu_fd, KVM_SET_SREGS, &sregs), "KVM_SET_SREGS");
    check(ioctl(vm.vcpu_fd, KVM_SET_REGS, &regs), "KVM_SET_REGS");
}

void dump_registers(const Vm& vm) {
    struct kvm_regs r;
    struct kvm_sregs s;
    if (ioctl(vm.vcpu_fd, KVM_GET_REGS, &r) != 0 || ioctl(vm.vcpu_fd, KVM_GET_SREGS, &s) != 0) {
        log("cannot read the vCPU registers: %s", strerror(errno));
        return;
    }
    using ull = unsigned long long;
    log("  rip=%016llx rsp=%016llx rflags=%016llx", (ull)r.rip, (ull)r.rsp, (ull)r.rflags);
    log("  rax=%016llx rbx=%016llx rcx=%016llx rdx=%016llx", (ull)r.rax, (ull)r.rbx, (ull)r.rcx,
        (ull)r.rdx);
    log("  rsi=%016llx rdi=%016llx rbp=%016llx r8 =%016llx", (ull)r.rsi, (ull)r.rdi, (ull)r.rbp,
        (ull)r.r8);
    log("  r9 =%016llx r10=%016llx r11=%016llx r12=%016llx", (ull)r.r9, (ull)r.r10, (ull)r.r11,
        (ull)r.r12);
    log("  r13=%016llx r14=%016llx r15=%016llx", (ull)r.r13, (ull)r.r14, (ull)r.r15);
    log("  cr0=%016llx cr2=%016llx cr3=%016llx cr4=%016llx efer=%llx", (ull)s.cr0, (ull)s.cr2,
        (ull)s.cr3, (ull)s.cr4, (ull)s.efer);
    log("  cs=%04x(dpl%u l%u) ss=%04x ds=%04x gdt=%llx/%x idt=%llx/%x", s.cs.selector, s.cs.dpl,
        s.cs.l, s.ss.selector, s.ds.selector, (ull)s.gdt.base, s.gdt.limit, (ull)s.idt.base,
        s.idt.limit);
}

}  // namespace kiln::vmm
