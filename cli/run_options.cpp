#include "run_options.h"

#include <stdlib.h>
#include <string.h>

#include "file.h"
#include "kiln/cmdline.h"
#include "net_options.h"

namespace kiln::cli {

const char kRunUsage[] =
    "usage: kiln run [OPTIONS] PROGRAM [ARGS...]\n"
    "\n"
    "Runs an x86-64 Linux program (static or dynamic ELF) in its own kiln VM.\n"
    "PROGRAM is a path or a name looked up in $PATH; it is packed with its\n"
    "interpreter and shared libraries into a cached image. Options go before\n"
    "PROGRAM; everything after it is passed to the program.\n"
    "\n"
    "options:\n"
    "  --mem SIZE          guest RAM, e.g. 256M or 1G (default: 64M, more for\n"
    "                      large images)\n"
    "  -e, --env KEY=VAL   set an environment variable (repeatable); -e KEY\n"
    "                      passes the host's value\n"
    "  --strace            print each system call the program makes to stderr\n"
    "  --stats             when the VM ends, print its counters to stderr (VM\n"
    "                      exits seen by kiln-vmm; halts, timer interrupts and\n"
    "                      uptime seen by the kernel)\n"
    "  --copy SRC:DST      add the host file or directory tree SRC at DST in the\n"
    "                      image (repeatable)\n"
    "  --net MODE          user (default: user-mode networking, no root needed;\n"
    "                      DHCP, DNS and outbound connections through the host),\n"
    "                      tap:NAME (an existing TAP device) or none\n"
    "  -p, --publish [IP:]HOSTPORT:GUESTPORT[/udp]\n"
    "                      forward a host port to the program (--net user; on\n"
    "                      127.0.0.1 unless IP is given); repeatable\n"
    "  --mac MAC           the VM's MAC address (default 52:54:00:12:34:56)\n"
    "  --ip ADDR/PREFIX[,GATEWAY[,DNS]]\n"
    "                      a static IPv4 address instead of DHCP (e.g. for\n"
    "                      --net tap:NAME without a DHCP server)\n"
    "  --ip6 ADDR/PREFIX[,GATEWAY]\n"
    "                      a static IPv6 address (besides SLAAC)\n"
    "  -h, --help          show this help\n"
    "\n"
    "The exit status is the program's; 125 means kiln could not run it.\n";

namespace {

constexpr uint64_t kMinMem = 16ull << 20;

bool valid_env_key(const std::string& key) {
    if (key.empty()) return false;
    for (char c : key) {
        if (c == '\0' || c == '=') return false;
    }
    return true;
}

}  // namespace

bool parse_mem_size(const std::string& text, uint64_t* out) {
    size_t n = text.size();
    if (n > 3 && text.compare(n - 2, 2, "iB") == 0) {
        n -= 2;
    } else if (n > 2 && text[n - 1] == 'B' && text[n - 2] > '9') {
        n -= 1;
    }
    auto r = kiln::parse_size(kiln::Span<const char>(text.data(), n));
    if (!r.ok()) return false;
    *out = *r;
    return true;
}

bool parse_run_options(const std::vector<std::string>& words, RunOptions* out, std::string* error,
                       const char* (*getenv_fn)(const char*)) {
    *out = RunOptions();
    size_t i = 0;
    // The value of an option given as "--opt VALUE" or "--opt=VALUE".
    auto value = [&](const std::string& w, std::initializer_list<const char*> names,
                     std::string* v) -> int {
        for (const char* name : names) {
            size_t n = strlen(name);
            if (w.compare(0, n, name) != 0) continue;
            if (w.size() > n && w[n] == '=') {
                *v = w.substr(n + 1);
                return 1;
            }
            if (w.size() != n) continue;
            if (i + 1 >= words.size()) {
                *error = std::string(name) + " needs a value";
                return -1;
            }
            *v = words[++i];
            return 1;
        }
        return 0;
    };
    for (; i < words.size(); ++i) {
        const std::string& w = words[i];
        std::string v;
        int r;
        if (w == "--") {
            ++i;
            break;
        }
        if (w.empty() || w[0] != '-' || w == "-") break;  // PROGRAM
        if (w == "-h" || w == "--help") {
            out->help = true;
            return true;
        }
        if (w == "--stats") {
            out->stats = true;
            continue;
        }
        if (w == "--strace") {
            out->strace = true;
            continue;
        }
        if ((r = value(w, {"--mem", "-m"}, &v)) != 0) {
            if (r < 0) return false;
            if (!parse_mem_size(v, &out->mem_bytes)) {
                *error = "--mem '" + v + "' is not a size; write e.g. --mem 256M or --mem 1G";
                return false;
            }
            if (out->mem_bytes < kMinMem) {
                *error = "--mem " + v + " is below the minimum of 16M";
                return false;
            }
            out->mem = v;
            continue;
        }
        if ((r = value(w, {"--env", "-e"}, &v)) != 0) {
            if (r < 0) return false;
            size_t eq = v.find('=');
            std::string key = v.substr(0, eq);
            if (!valid_env_key(key) || v.find('\0') != std::string::npos) {
                *error = "-e '" + v + "' is not KEY=VAL";
                return false;
            }
            if (eq == std::string::npos) {
                // Docker's "-e KEY": the host's value, or nothing when unset.
                const char* host = getenv_fn ? getenv_fn(key.c_str()) : nullptr;
                if (host != nullptr) out->env.push_back(key + "=" + host);
                continue;
            }
            out->env.push_back(v);
            continue;
        }
        if ((r = value(w, {"--copy"}, &v)) != 0) {
            if (r < 0) return false;
            // SRC:DST; DST is after the last ':' so that SRC may hold one.
            size_t colon = v.rfind(':');
            if (colon == std::string::npos || colon == 0 || colon + 1 == v.size()) {
                *error = "--copy '" + v + "' is not SRC:DST (e.g. --copy ./data:/data)";
                return false;
            }
            std::string dst = v.substr(colon + 1);
            if (dst[0] != '/') {
                *error = "--copy '" + v + "': DST must be an absolute path in the image";
                return false;
            }
            dst = normalize_path(dst);
            if (dst == "/") {
                *error = "--copy '" + v + "': DST cannot be / itself; name a directory under it";
                return false;
            }
            out->copies.push_back({v.substr(0, colon), dst});
            continue;
        }
        if ((r = value(w, {"--net"}, &v)) != 0) {
            if (r < 0) return false;
            kiln::vmm::NetOptions net;
            char err[256];
            if (!kiln::vmm::parse_net_mode(v.c_str(), &net, err, sizeof(err))) {
                *error = err;
                return false;
            }
            out->net = v;
            continue;
        }
        if ((r = value(w, {"--publish", "-p"}, &v)) != 0) {
            if (r < 0) return false;
            out->publish.push_back(v);
            continue;
        }
        if ((r = value(w, {"--mac"}, &v)) != 0) {
            if (r < 0) return false;
            out->mac = v;
            continue;
        }
        if ((r = value(w, {"--ip"}, &v)) != 0) {
            if (r < 0) return false;
            char err[256];
            if (!kiln::vmm::check_static_ip(v.c_str(), err, sizeof(err))) {
                *error = err;
                return false;
            }
            out->ip = v;
            continue;
        }
        if ((r = value(w, {"--ip6"}, &v)) != 0) {
            if (r < 0) return false;
            char err[256];
            if (!kiln::vmm::check_static_ip6(v.c_str(), err, sizeof(err))) {
                *error = err;
                return false;
            }
            out->ip6 = v;
            continue;
        }
        *error = "unknown option '" + w + "' (options go before PROGRAM; see kiln run --help)";
        return false;
    }
    // The network options together, as kiln-vmm will see them.
    kiln::vmm::NetOptions net;
    char err[256];
    if (!kiln::vmm::parse_net_mode(out->net.c_str(), &net, err, sizeof(err))) {
        *error = err;
        return false;
    }
    for (const auto& p : out->publish) {
        if (!kiln::vmm::add_publish(p.c_str(), &net, err, sizeof(err))) {
            *error = err;
            return false;
        }
    }
    if (!out->mac.empty()) {
        if (!kiln::vmm::parse_mac(out->mac.c_str(), net.mac, err, sizeof(err))) {
            *error = err;
            return false;
        }
        net.mac_given = true;
    }
    if (!kiln::vmm::check_net_options(net, err, sizeof(err))) {
        *error = err;
        return false;
    }
    if (!out->ip.empty() && net.mode == kiln::vmm::NetMode::kNone) {
        *error = "--ip needs a network: add --net user or --net tap:NAME";
        return false;
    }
    if (!out->ip6.empty() && net.mode == kiln::vmm::NetMode::kNone) {
        *error = "--ip6 needs a network: add --net tap:NAME";
        return false;
    }
    if (i >= words.size()) {
        *error = "no PROGRAM given";
        return false;
    }
    out->program = words[i];
    out->args.assign(words.begin() + i + 1, words.end());
    return true;
}

}  // namespace kiln::cli
