// PVH start info (Xen's hvm_start_info v1; lib/abi/boot.h), the kernel
// command line and the initrds, placed where lib/abi/boot.h says.
#include "abi/boot.h"
#include "boot_setup.h"
#include "log.h"
#include "options.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

namespace kiln::vmm {

namespace {

constexpr uint64_t kPage = 0x1000;

template <typename T>
T* boot_object(GuestMemory& mem, uint64_t gpa) {
    auto p = mem.object<T>(gpa);
    if (!p.ok()) fatal("internal: boot structure at 0x%llx outside RAM", (unsigned long long)gpa);
    return *p;
}

}  // namespace

Initrd open_initrd(const char* path) {
    Initrd r;
    r.path = path;
    if (path == nullptr) return r;
    r.fd = open(path, O_RDONLY | O_CLOEXEC);
    if (r.fd < 0) {
        fatal("cannot open initrd '%s': %s; check the path and that it is readable", path,
              strerror(errno));
    }
    struct stat st;
    if (fstat(r.fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        fatal("initrd '%s' is not a regular file", path);
    }
    r.size = st.st_size;
    return r;
}

void place_initrds(Initrd* initrds, int count, uint64_t low_end, uint64_t kernel_end) {
    uint64_t floor = (kernel_end + kPage - 1) & ~(kPage - 1);
    uint64_t top = low_end & ~(kPage - 1);
    for (int i = 0; i < count; ++i) {
        Initrd& r = initrds[i];
        if (r.size > top || ((top - r.size) & ~(kPage - 1)) < floor) {
            if (count == 1) {
                fatal("initrd '%s' (%llu KiB) does not fit in guest RAM above the kernel; raise "
                      "--mem",
                      r.path, static_cast<unsigned long long>(r.size >> 10));
            }
            fatal("initrd '%s' (%llu KiB, number %d of %d) does not fit in guest RAM above the "
                  "kernel and the initrds before it; raise --mem",
                  r.path, static_cast<unsigned long long>(r.size >> 10), i + 1, count);
        }
        r.gpa = (top - r.size) & ~(kPage - 1);
        top = r.gpa;
    }
}

void load_initrd(Initrd& initrd, GuestMemory& mem) {
    if (initrd.fd < 0) return;
    auto dst = mem.span(initrd.gpa, initrd.size);
    if (!dst.ok()) fatal("internal: initrd placement outside RAM");
    uint64_t done = 0;
    while (done < initrd.size) {
        ssize_t n = pread(initrd.fd, dst->data() + done, initrd.size - done, done);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) {
            fatal("cannot read initrd '%s': %s", initrd.path,
                  n < 0 ? strerror(errno) : "file shrank while reading");
        }
        done += n;
    }
    close(initrd.fd);
    initrd.fd = -1;
}

void build_cmdline(const char* user, uint32_t virtio_devices, char* out) {
    size_t len = strlen(user);
    if (len >= abi::kCmdlineMax) {
        fatal("--cmdline is %zu bytes; the limit is %llu including the devices kiln-vmm adds",
              len, static_cast<unsigned long long>(abi::kCmdlineMax - 1));
    }
    memcpy(out, user, len);
    for (uint32_t i = 0; i < virtio_devices; ++i) {
        char dev[64];
        int n = snprintf(dev, sizeof(dev), "%svirtio_mmio.device=4K@0x%llx:%u",
                         len == 0 ? "" : " ",
                         static_cast<unsigned long long>(abi::kVirtioMmioBase +
                                                         i * abi::kVirtioMmioStride),
                         abi::kVirtioIrqBase + i);
        if (len + n >= abi::kCmdlineMax) {
            fatal("--cmdline is too long: with the virtio devices kiln-vmm appends it exceeds "
                  "%llu bytes; shorten it",
                  static_cast<unsigned long long>(abi::kCmdlineMax - 1));
        }
        memcpy(out + len, dev, n);
        len += n;
    }
    out[len] = '\0';
}

void write_start_info(GuestMemory& mem, const char* cmdline, const Initrd* initrds, int count) {
    using abi::HvmMemmapEntry;
    using abi::HvmModlistEntry;
    using abi::HvmStartInfo;
    constexpr uint64_t kMemmapGpa = abi::kStartInfoGpa + sizeof(HvmStartInfo);
    constexpr uint64_t kModlistGpa = kMemmapGpa + 3 * sizeof(HvmMemmapEntry);
    static_assert(kModlistGpa + kMaxInitrds * sizeof(HvmModlistEntry) <= abi::kCmdlineGpa);

    HvmMemmapEntry* map = boot_object<HvmMemmapEntry>(mem, kMemmapGpa);
    uint32_t n = 0;
    map[n++] = HvmMemmapEntry{0, abi::kLowReservedEnd, abi::kMemReserved, 0};
    map[n++] = HvmMemmapEntry{abi::kLowReservedEnd, mem.low_end() - abi::kLowReservedEnd,
                              abi::kMemRam, 0};
    if (mem.range_count() > 1) {
        map[n++] = HvmMemmapEntry{mem.range(1).gpa, mem.range(1).size, abi::kMemRam, 0};
    }

    HvmStartInfo* si = boot_object<HvmStartInfo>(mem, abi::kStartInfoGpa);
    si->magic = abi::kHvmStartMagic;
    si->version = 1;
    si->cmdline_paddr = abi::kCmdlineGpa;
    si->memmap_paddr = kMemmapGpa;
    si->memmap_entries = n;
    if (count > 0) {
        for (int i = 0; i < count; ++i) {
            HvmModlistEntry* mod =
                boot_object<HvmModlistEntry>(mem, kModlistGpa + i * sizeof(HvmModlistEntry));
            *mod = HvmModlistEntry{initrds[i].gpa, initrds[i].size, 0, 0};
        }
        si->nr_modules = static_cast<uint32_t>(count);
        si->modlist_paddr = kModlistGpa;
    }

    auto dst = mem.span(abi::kCmdlineGpa, abi::kCmdlineMax);
    if (!dst.ok()) fatal("internal: command line outside RAM");
    memcpy(dst->data(), cmdline, strlen(cmdline) + 1);
}

}  // namespace kiln::vmm
