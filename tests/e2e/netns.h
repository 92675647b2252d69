// A network namespace for one test: `ip netns add kiln-test-<pid>-<n>`,
// devices and addresses inside it, commands run in it with `ip netns exec`,
// and `ip netns del` when the object goes (also when the test fails). A
// namespace left behind by a test process that was killed is removed by the
// next NetNs made on this machine. Tests never give the root namespace an
// address or a device: everything but 127.0.0.1 lives in here.
#pragma once

#include <string>
#include <vector>

#include "process.h"

namespace kiln::test {

class NetNs {
public:
    NetNs();
    ~NetNs();
    NetNs(const NetNs&) = delete;
    NetNs& operator=(const NetNs&) = delete;

    // Why the namespace could not be made ("" when it was): not root, no
    // `ip`, no namespace support. Tests skip with this reason.
    const std::string& unavailable() const { return unavailable_; }
    const std::string& name() const { return name_; }

    // `ip netns exec NAME argv...`, with opts as for run().
    RunResult exec(const std::vector<std::string>& argv, const RunOptions& opts = {}) const;
    // Runs an `ip` command inside the namespace (e.g. {"link", "set", "lo",
    // "up"}); false with *error set when it fails.
    bool ip(const std::vector<std::string>& args, std::string* error) const;

    // A TAP device `dev` with address `cidr` (e.g. "10.0.2.2/24"), up, with
    // IPv6 off so that the guest sees only the traffic a test makes.
    bool add_tap(const std::string& dev, const std::string& cidr, std::string* error) const;
    // A veth pair: `inside` in this namespace with `cidr`, `peer` moved
    // into namespace `peer_ns` with `peer_cidr`; both up.
    bool add_veth(const std::string& inside, const std::string& cidr, const std::string& peer,
                  const NetNs& peer_ns, const std::string& peer_cidr, std::string* error) const;

private:
    std::string name_;
    std::string unavailable_;
};

}  // namespace kiln::test
