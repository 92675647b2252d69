// kiln-vmm's virtio-net device and its backends, end to end with the test
// guests net_arp (an ARP request and its reply through the device) and
// net_hostile (malformed chains). --net user runs kiln-slirp, which answers
// ARP itself: no packet leaves the machine. TAP devices live in a network
// namespace made by the test (netns.h).
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <regex>
#include <string>
#include <vector>

#include "netns.h"
#include "skip.h"
#include "process.h"

namespace {

constexpr int kStatusMonitorError = 125;

using kiln::test::RunResult;

RunResult run_vmm(const std::vector<std::string>& args, const kiln::test::RunOptions& opts = {}) {
    std::vector<std::string> argv = {KILN_VMM_PATH};
    argv.insert(argv.end(), args.begin(), args.end());
    return kiln::test::run(argv, opts);
}

// kiln-slirp is built beside kiln-vmm when libslirp-dev is installed.
#define REQUIRE_SLIRP()                                                               \
    if (access((std::string(KILN_VMM_PATH).substr(0, std::string(KILN_VMM_PATH).rfind('/')) + \
                "/kiln-slirp").c_str(), X_OK) != 0)                                   \
    GTEST_SKIP() << "SKIPPED: kiln-slirp not built (libslirp-dev missing: scripts/setup)"

void expect_error(const RunResult& r, std::initializer_list<const char*> fragments) {
    EXPECT_EQ(r.status, kStatusMonitorError) << r.err;
    for (const char* f : fragments) EXPECT_NE(r.err.find(f), std::string::npos) << r.err;
}

// ---- options ---------------------------------------------------------------

TEST(VmmNetOptions, BadValuesAreRejectedWithAMessage) {
    const std::string g = KILN_GUEST_exit42;
    expect_error(run_vmm({"--net", "bridge", g}), {"--net 'bridge' is not a network mode"});
    expect_error(run_vmm({"--net", "tap:", g}), {"TAP device's name"});
    expect_error(run_vmm({"--net", "tap:averyveryverylongname", g}), {"TAP device's name"});
    expect_error(run_vmm({"--net", "user", "--mac", "52:54:00:12:34", g}), {"not a MAC address"});
    expect_error(run_vmm({"--net", "user", "--mac", "01:00:5e:00:00:01", g}), {"multicast"});
    expect_error(run_vmm({"--net", "user", "-p", "80", g}), {"no host port"});
    expect_error(run_vmm({"--net", "user", "-p", "70000:80", g}), {"host port '70000'"});
    expect_error(run_vmm({"--net", "user", "-p", "8080:0", g}), {"guest port '0'"});
    expect_error(run_vmm({"--net", "user", "-p", "8080:80/sctp", g}), {"tcp or udp"});
    expect_error(run_vmm({"--net", "user", "-p", "1.2.3:8080:80", g}), {"not an IPv4 address"});
    expect_error(run_vmm({"--net", "user", "-p", "[::1]:8080:80", g}), {"IPv6"});
    expect_error(run_vmm({"--net", "user", "-p", "8000-8010:80", g}), {"ranges"});
    expect_error(run_vmm({"--net", "user", "-p", "8080:80", "-p", "8080:81", g}),
                 {"already published"});
    expect_error(run_vmm({"-p", "8080:80", g}), {"-p", "--net user"});
    expect_error(run_vmm({"--mac", "52:54:00:12:34:57", g}), {"--mac needs a network"});
}

TEST(VmmNetOptions, MissingTapIsNamed) {
    expect_error(run_vmm({"--net", "tap:kilnnosuch0", KILN_GUEST_exit42}),
                 {"no network interface 'kilnnosuch0'", "ip tuntap add"});
}

// ---- the device ------------------------------------------------------------

TEST(VmmNet, NoDeviceWithoutNet) {
    REQUIRE_KVM();
    // Slot 1 is empty: the guest finds no virtio magic there.
    RunResult r = run_vmm({KILN_GUEST_net_arp});
    EXPECT_EQ(r.status, 1) << r.err;
}

TEST(VmmNet, UserModeAnswersArp) {
    REQUIRE_KVM();
    REQUIRE_SLIRP();
    RunResult r = run_vmm({"--net", "user", KILN_GUEST_net_arp});
    EXPECT_EQ(r.status, 66) << r.err;
    EXPECT_EQ(r.err, "");
}

TEST(VmmNet, MergeableBuffersSpreadOnePacket) {
    REQUIRE_KVM();
    REQUIRE_SLIRP();
    RunResult r = run_vmm({"--net", "user", KILN_GUEST_net_mrg});
    EXPECT_EQ(r.status, 66) << r.err;
}

// EVENT_IDX both ways: eight packets out on one kick, eight replies in, and
// one interrupt per queue, when the driver asked for it (used_event 7).
TEST(VmmNet, ABurstCostsOneNotificationEachWay) {
    REQUIRE_KVM();
    REQUIRE_SLIRP();
    RunResult r = run_vmm({"--stats", "--net", "user", KILN_GUEST_net_burst});
    EXPECT_EQ(r.status, 66) << r.err;
    EXPECT_NE(r.err.find("tx_packets=8 rx_packets=8 dropped=0 kicks=2 interrupts=2 "),
              std::string::npos)
        << r.err;
}

TEST(VmmNet, StatsCountPackets) {
    REQUIRE_KVM();
    REQUIRE_SLIRP();
    RunResult r = run_vmm({"--stats", "--net", "user", KILN_GUEST_net_arp});
    EXPECT_EQ(r.status, 66) << r.err;
    std::regex line("kiln-vmm net stats: tx_packets=1 rx_packets=[1-9][0-9]* dropped=0 "
                    "kicks=[1-9][0-9]* interrupts=[0-9]+ io_passes=[1-9][0-9]*\n");
    EXPECT_TRUE(std::regex_search(r.err, line)) << r.err;
}

TEST(VmmNet, HostileChainsNeverCrashTheMonitor) {
    REQUIRE_KVM();
    REQUIRE_SLIRP();
    RunResult r = run_vmm({"--net", "user", KILN_GUEST_net_hostile});
    EXPECT_EQ(r.status, 7) << r.err;
    for (const char* f : {"transmitq: a descriptor chain loops",
                          "transmitq: a ring or buffer lies outside guest RAM",
                          "transmitq: a chain holds a device-writable buffer",
                          "transmitq: a ring index, descriptor index or flag is invalid",
                          "dropped a 1048576-byte transmit packet",
                          "receiveq: a chain holds a device-readable buffer", "needs reset"}) {
        EXPECT_NE(r.err.find(f), std::string::npos) << f << "\n" << r.err;
    }
}

TEST(VmmNet, PublishBindsBeforeTheGuestStarts) {
    REQUIRE_KVM();
    REQUIRE_SLIRP();
    std::string port = std::to_string(kiln::test::free_tcp_port());
    RunResult ok = run_vmm({"--net", "user", "-p", "127.0.0.1:" + port + ":80", "-p",
                            port + ":53/udp", KILN_GUEST_exit42});
    EXPECT_EQ(ok.status, 42) << ok.err;

    // A port somebody else holds is an error of the run.
    int s = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a = {};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ASSERT_EQ(bind(s, reinterpret_cast<sockaddr*>(&a), sizeof(a)), 0);
    ASSERT_EQ(listen(s, 1), 0);
    socklen_t len = sizeof(a);
    getsockname(s, reinterpret_cast<sockaddr*>(&a), &len);
    std::string taken = std::to_string(ntohs(a.sin_port));
    RunResult busy = run_vmm({"--net", "user", "-p", taken + ":80", KILN_GUEST_exit42});
    close(s);
    expect_error(busy, {"cannot publish 127.0.0.1:", taken.c_str(), "did not start"});
}

// The guest's exit status packs the offered features (guests/net_features.S):
// checksum offload, MAC, STATUS and mergeable buffers always; TSO both ways
// only over a TAP, which segments and coalesces (kiln-slirp cannot).
TEST(VmmNet, FeaturesOfferedPerBackend) {
    REQUIRE_KVM();
    REQUIRE_SLIRP();
    RunResult user = run_vmm({"--net", "user", KILN_GUEST_net_features});
    EXPECT_EQ(user.status, 0x70) << user.err;
    kiln::test::NetNs ns;
    if (!ns.unavailable().empty()) GTEST_SKIP() << "SKIPPED: " << ns.unavailable();
    std::string error;
    ASSERT_TRUE(ns.ip({"tuntap", "add", "dev", "ktap0", "mode", "tap"}, &error)) << error;
    RunResult tap = ns.exec({KILN_VMM_PATH, "--net", "tap:ktap0", KILN_GUEST_net_features});
    EXPECT_EQ(tap.status, 0x7f) << tap.err;
}

// netns.h itself: two namespaces joined by a veth pair reach each other, and
// both are gone once their objects are.
TEST(NetNs, VethPairBetweenTwoNamespaces) {
    std::string a_name, b_name;
    {
        kiln::test::NetNs a, b;
        if (!a.unavailable().empty()) GTEST_SKIP() << "SKIPPED: " << a.unavailable();
        ASSERT_TRUE(b.unavailable().empty()) << b.unavailable();
        a_name = a.name();
        b_name = b.name();
        std::string error;
        ASSERT_TRUE(a.add_veth("kv0", "10.0.4.1/24", "kv1", b, "10.0.4.2/24", &error)) << error;
        if (!kiln::test::have_program("ping")) GTEST_SKIP() << "SKIPPED: ping not installed";
        RunResult r = a.exec({"ping", "-c", "1", "-w", "5", "10.0.4.2"});
        EXPECT_EQ(r.status, 0) << r.out << r.err;
    }
    RunResult list = kiln::test::run({"ip", "netns", "list"});
    EXPECT_EQ(list.out.find(a_name), std::string::npos) << list.out;
    EXPECT_EQ(list.out.find(b_name), std::string::npos) << list.out;
}

TEST(VmmNet, TapInANamespace) {
    REQUIRE_KVM();
    kiln::test::NetNs ns;
    if (!ns.unavailable().empty()) GTEST_SKIP() << "SKIPPED: " << ns.unavailable();
    std::string error;
    ASSERT_TRUE(ns.add_tap("ktap0", "10.0.2.2/24", &error)) << error;
    // The host side (the namespace's kernel) answers the guest's ARP request.
    RunResult r = ns.exec({KILN_VMM_PATH, "--net", "tap:ktap0", "--mac", "52:54:00:12:34:56",
                           KILN_GUEST_net_arp});
    EXPECT_EQ(r.status, 66) << r.err;
}

}  // namespace
