#include "netns.h"

#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sstream>

namespace kiln::test {

namespace {

constexpr const char* kPrefix = "kiln-test-";

std::string ip_path() {
    for (const char* p : {"/usr/sbin/ip", "/sbin/ip", "/usr/bin/ip", "/bin/ip"}) {
        if (access(p, X_OK) == 0) return p;
    }
    return "";
}

// Namespaces named kiln-test-<pid>-<n> whose process is gone.
void remove_stale(const std::string& ip) {
    RunResult r = run({ip, "netns", "list"});
    std::istringstream lines(r.out);
    std::string line;
    while (std::getline(lines, line)) {
        std::string name = line.substr(0, line.find(' '));
        if (name.compare(0, strlen(kPrefix), kPrefix) != 0) continue;
        long pid = atol(name.c_str() + strlen(kPrefix));
        if (pid <= 0 || kill(static_cast<pid_t>(pid), 0) == 0) continue;
        run({ip, "netns", "del", name});
    }
}

}  // namespace

NetNs::NetNs() {
    static int counter = 0;
    std::string ip = ip_path();
    if (ip.empty()) {
        unavailable_ = "no `ip` command (install iproute2: scripts/setup)";
        return;
    }
    if (geteuid() != 0) {
        unavailable_ = "network namespaces need root";
        return;
    }
    remove_stale(ip);
    std::string name = std::string(kPrefix) + std::to_string(getpid()) + "-" +
                       std::to_string(counter++);
    RunResult r = run({ip, "netns", "add", name});
    if (r.status != 0) {
        unavailable_ = "ip netns add failed: " + r.err;
        return;
    }
    name_ = name;
    std::string error;
    if (!this->ip({"link", "set", "lo", "up"}, &error)) unavailable_ = error;
}

NetNs::~NetNs() {
    if (name_.empty()) return;
    // Deleting the namespace also removes every device inside it.
    run({ip_path(), "netns", "del", name_});
}

RunResult NetNs::exec(const std::vector<std::string>& argv, const RunOptions& opts) const {
    std::vector<std::string> full = {ip_path(), "netns", "exec", name_};
    full.insert(full.end(), argv.begin(), argv.end());
    return run(full, opts);
}

bool NetNs::ip(const std::vector<std::string>& args, std::string* error) const {
    std::vector<std::string> argv = {ip_path(), "-n", name_};
    argv.insert(argv.end(), args.begin(), args.end());
    RunResult r = run(argv);
    if (r.status == 0) return true;
    std::string cmd = "ip";
    for (size_t i = 1; i < argv.size(); ++i) cmd += " " + argv[i];
    *error = cmd + " failed: " + r.err;
    return false;
}

bool NetNs::add_tap(const std::string& dev, const std::string& cidr, std::string* error) const {
    if (!ip({"tuntap", "add", "dev", dev, "mode", "tap"}, error)) return false;
    // Without IPv6 in the host kernel there is nothing to turn off.
    exec({"/bin/sh", "-c", "echo 1 > /proc/sys/net/ipv6/conf/" + dev + "/disable_ipv6"});
    return ip({"addr", "add", cidr, "dev", dev}, error) &&
           ip({"link", "set", dev, "up"}, error);
}

bool NetNs::add_veth(const std::string& inside, const std::string& cidr, const std::string& peer,
                     const NetNs& peer_ns, const std::string& peer_cidr,
                     std::string* error) const {
    return ip({"link", "add", inside, "type", "veth", "peer", "name", peer, "netns",
               peer_ns.name()}, error) &&
           ip({"addr", "add", cidr, "dev", inside}, error) &&
           ip({"link", "set", inside, "up"}, error) &&
           peer_ns.ip({"addr", "add", peer_cidr, "dev", peer}, error) &&
           peer_ns.ip({"link", "set", peer, "up"}, error);
}

}  // namespace kiln::test
