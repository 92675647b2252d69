#include "options.h"

#include <string.h>
#include <unistd.h>

#include "kiln/cmdline.h"
#include "log.h"

namespace kiln::vmm {

namespace {

constexpr const char kUsage[] =
    "usage: kiln-vmm [--mem SIZE] [--cmdline STR] [--initrd FILE]... [--stats] [--quiet-log]\n"
    "                [--net none|user|tap:NAME] [--mac MAC] [-p SPEC]... KERNEL.elf\n"
    "  --mem SIZE      guest RAM, e.g. 64M or 1G (default 64M, at least 16M)\n"
    "  --cmdline STR   kernel command line\n"
    "  --initrd FILE   initial ramdisk (cpio); repeatable, up to 8, passed as PVH\n"
    "                  modules 0, 1, ... in order\n"
    "  --stats         print exit counters and memory use to stderr at exit\n"
    "  --quiet-log     do not copy the kernel log (UART) to stderr\n"
    "  --net MODE      none (default: no network device), user (user-mode networking\n"
    "                  through kiln-slirp: DHCP, DNS, outbound connections) or\n"
    "                  tap:NAME (an existing TAP device)\n"
    "  --mac MAC       the guest's MAC address (default 52:54:00:12:34:56)\n"
    "  -p, --publish [IP:]HOSTPORT:GUESTPORT[/udp]\n"
    "                  with --net user: forward a host port (on 127.0.0.1 unless IP\n"
    "                  is given) to the guest; repeatable\n";

// Physical RAM of the host, 0 when unknown.
uint64_t host_ram() {
    long pages = sysconf(_SC_PHYS_PAGES);
    long page = sysconf(_SC_PAGESIZE);
    if (pages <= 0 || page <= 0) return 0;
    return static_cast<uint64_t>(pages) * static_cast<uint64_t>(page);
}

void check_mem(const char* text, uint64_t mem) {
    if (mem < kMinMem) {
        fatal("--mem %s is below the minimum of 16M; use e.g. --mem 64M", text);
    }
    if (mem > kMaxMem) fatal("--mem %s is above the maximum of 64G; use a smaller size", text);
    uint64_t ram = host_ram();
    if (ram != 0 && mem > ram) {
        fatal("--mem %s is more than this machine's %llu MiB of RAM; use a smaller size", text,
              static_cast<unsigned long long>(ram >> 20));
    }
}

}  // namespace

bool parse_size(const char* s, uint64_t* out) {
    if (s == nullptr) return false;
    // "64M", "64MiB" and "64MB" all mean 64 MiB; the number itself is lib's.
    size_t n = strlen(s);
    if (n > 3 && strcmp(s + n - 2, "iB") == 0) n -= 2;
    else if (n > 2 && s[n - 1] == 'B' && s[n - 2] > '9') n -= 1;
    auto r = kiln::parse_size(Span<const char>(s, n));
    if (!r.ok()) return false;
    *out = *r;
    return true;
}

Options parse_options(int argc, char** argv) {
    Options o;
    for (int i = 1; i < argc; ++i) {
        const char* a = argv[i];
        // Options that take a value accept both "--opt VALUE" and "--opt=VALUE".
        auto value = [&](const char* name) -> const char* {
            size_t n = strlen(name);
            if (strncmp(a, name, n) != 0) return nullptr;
            if (a[n] == '=') return a + n + 1;
            if (a[n] != '\0') return nullptr;
            if (i + 1 >= argc) fatal("%s needs a value\n%s", name, kUsage);
            return argv[++i];
        };
        const char* v;
        if ((v = value("--mem")) != nullptr) {
            if (!parse_size(v, &o.mem)) {
                fatal("--mem '%s' is not a size; write e.g. --mem 64M or --mem 1G", v);
            }
            check_mem(v, o.mem);
        } else if ((v = value("--cmdline")) != nullptr) {
            o.cmdline = v;
        } else if ((v = value("--initrd")) != nullptr) {
            if (o.initrd_count == kMaxInitrds) {
                fatal("--initrd given more than %d times; pack the files into fewer archives",
                      kMaxInitrds);
            }
            o.initrds[o.initrd_count++] = v;
        } else if ((v = value("--net")) != nullptr) {
            char err[256];
            if (!parse_net_mode(v, &o.net, err, sizeof(err))) fatal("%s", err);
        } else if ((v = value("--mac")) != nullptr) {
            char err[256];
            if (!parse_mac(v, o.net.mac, err, sizeof(err))) fatal("%s", err);
            o.net.mac_given = true;
        } else if ((v = value("--publish")) != nullptr || (v = value("-p")) != nullptr) {
            char err[256];
            if (!add_publish(v, &o.net, err, sizeof(err))) fatal("%s", err);
        } else if (strcmp(a, "--stats") == 0) {
            o.stats = true;
        } else if (strcmp(a, "--quiet-log") == 0) {
            o.quiet_log = true;
        } else if (strcmp(a, "--debug-seccomp-violation") == 0) {
            o.debug_seccomp_violation = true;
        } else if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            write_all(STDOUT_FILENO, kUsage, sizeof(kUsage) - 1);
            _exit(0);
        } else if (a[0] == '-' && a[1] != '\0') {
            fatal("unknown option '%s'\n%s", a, kUsage);
        } else if (o.kernel != nullptr) {
            fatal("more than one kernel given ('%s' and '%s')\n%s", o.kernel, a, kUsage);
        } else {
            o.kernel = a;
        }
    }
    if (o.kernel == nullptr) fatal("no kernel given\n%s", kUsage);
    char err[256];
    if (!check_net_options(o.net, err, sizeof(err))) fatal("%s", err);
    return o;
}

}  // namespace kiln::vmm
