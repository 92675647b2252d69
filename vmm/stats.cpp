#include "stats.h"

#include "log.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

namespace kiln::vmm {

void Stats::prepare(const GuestMemory& mem) {
    statm_fd_ = open("/proc/self/statm", O_RDONLY | O_CLOEXEC);
    pages_ = static_cast<uint8_t*>(malloc(mem.page_count()));
}

void Stats::print(const GuestMemory& mem, const ExitCounters& c) {
    uint64_t page_kib = static_cast<uint64_t>(sysconf(_SC_PAGESIZE)) / 1024;
    uint64_t rss_pages = 0;
    char buf[128];
    ssize_t n = statm_fd_ >= 0 ? pread(statm_fd_, buf, sizeof(buf) - 1, 0) : -1;
    if (n > 0) {
        buf[n] = '\0';
        unsigned long long size = 0, resident = 0;
        if (sscanf(buf, "%llu %llu", &size, &resident) == 2) rss_pages = resident;
    }
    uint64_t guest_pages = pages_ != nullptr ? mem.resident_pages(pages_) : 0;
    uint64_t vmm_pages = rss_pages > guest_pages ? rss_pages - guest_pages : 0;
    char line[256];
    int len = snprintf(line, sizeof(line),
                       "kiln-vmm stats: exits=%llu io=%llu mmio=%llu hlt=%llu other=%llu "
                       "vmm_rss_kib=%llu guest_touched_kib=%llu\n",
                       (unsigned long long)c.exits, (unsigned long long)c.io,
                       (unsigned long long)c.mmio, (unsigned long long)c.hlt,
                       (unsigned long long)c.other, (unsigned long long)(vmm_pages * page_kib),
                       (unsigned long long)(guest_pages * page_kib));
    write_all(STDERR_FILENO, line, len);
}

}  // namespace kiln::vmm
