// Networking end to end: tests/guest/http_server in kiln, reached from the
// host through `--net user -p 127.0.0.1:PORT:80` (the root namespace sees
// only 127.0.0.1), and over a TAP device in a network namespace made by the
// test (ping and curl). Each VM runs on a thread of its own while the test
// is the client; the server ends by itself after --max-requests, and every
// VM has a timeout, so a test that fails leaves nothing running.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <string>
#include <thread>
#include <vector>

#include "kiln_run.h"
#include "skip.h"
#include "netns.h"
#include "process.h"

namespace {

using kiln::test::contains;
using kiln::test::describe;
using kiln::test::RunResult;

const std::string kServer = std::string(KILN_GUEST_DIR) + "/http_server-glibc-static";
const std::string kUdpEcho = std::string(KILN_GUEST_DIR) + "/udp_echo-glibc-static";

// A VM running on its own thread; join() waits for it to end.
class Vm {
public:
    explicit Vm(std::vector<std::string> argv) {
        thread_ = std::thread([this, argv] {
            kiln::test::RunOptions opts;
            opts.timeout_s = 60;
            opts.env = {{"XDG_CACHE_HOME", kiln::test::cache_dir()}};
            result_ = kiln::test::run(argv, opts);
        });
    }
    ~Vm() {
        if (thread_.joinable()) thread_.join();
    }
    const RunResult& join() {
        thread_.join();
        return result_;
    }

private:
    std::thread thread_;
    RunResult result_;
};

// curl until the server answers (the guest may still be booting), at most
// ~10 s. Only failures that cannot have reached the server are retried
// (refused, or an empty reply or reset: slirp accepted before the guest
// listened), so a server that answers a fixed number of requests is never
// asked twice for one.
RunResult curl_until_served(const std::vector<std::string>& prefix, const std::string& url,
                            const std::string& body) {
    RunResult r;
    for (int i = 0; i < 50; ++i) {
        std::vector<std::string> argv = prefix;
        argv.insert(argv.end(), {"curl", "-s", "-m", "20", url});
        r = kiln::test::run(argv);
        if (r.status == 0 && contains(r.out, body)) return r;
        if (r.status != 7 && r.status != 52 && r.status != 56) return r;
        usleep(200 * 1000);
    }
    return r;
}

// Sends `text` with netcat-openbsd (nc -u) until the guest's udp_echo sends
// it back (it may still be booting), at most ~10 s; then "quit", which ends
// the echo server. Returns the first echo.
std::string udp_echo(const std::vector<std::string>& prefix, const std::string& host,
                     const std::string& port, const std::string& text) {
    kiln::test::RunOptions opts;
    opts.stdin_path = kiln::test::write_file("udp-" + text, text + "\n");
    std::string echoed;
    for (int i = 0; i < 20 && echoed.empty(); ++i) {
        std::vector<std::string> argv = prefix;
        argv.insert(argv.end(), {"nc", "-u", "-w", "1", host, port});
        echoed = kiln::test::run(argv, opts).out;
    }
    kiln::test::RunOptions quit;
    quit.stdin_path = kiln::test::write_file("udp-quit", "quit\n");
    std::vector<std::string> argv = prefix;
    argv.insert(argv.end(), {"nc", "-u", "-w", "1", host, port});
    kiln::test::run(argv, quit);
    return echoed;
}

// A server on the host (or in a namespace) for the guest to connect to:
// tests/guest/http_server run natively, answering one request.
class NativeServer {
public:
    NativeServer(std::vector<std::string> prefix, const std::string& addr, int port) {
        prefix.insert(prefix.end(), {kServer, "--addr", addr, "--port", std::to_string(port),
                                     "--max-requests", "1"});
        thread_ = std::thread([this, prefix] {
            kiln::test::RunOptions opts;
            opts.timeout_s = 30;
            result_ = kiln::test::run(prefix, opts);
        });
    }
    ~NativeServer() { thread_.join(); }

private:
    std::thread thread_;
    RunResult result_;
};

TEST(NetUser, PublishedPortReachesTheGuest) {
    REQUIRE_KVM();
    REQUIRE_PROGRAM("curl");
    std::string port = std::to_string(kiln::test::free_tcp_port());
    // The issue's own example: nothing but -p (kiln-vmm tells the kernel
    // slirp's fixed address).
    Vm vm({KILN_PATH, "run", "-p", "127.0.0.1:" + port + ":80", kServer, "--port", "80",
           "--max-requests", "3"});
    std::string url = "http://127.0.0.1:" + port + "/";
    RunResult first = curl_until_served({}, url, "hello from kiln\n");
    EXPECT_EQ(first.out, "hello from kiln\n") << first.err;
    // Two requests on one kept-alive connection.
    RunResult two = kiln::test::run({"curl", "-s", "-m", "20", url, url});
    EXPECT_EQ(two.out, "hello from kiln\nhello from kiln\n") << two.err;
    const RunResult& r = vm.join();
    EXPECT_EQ(r.status, 0) << describe(r);
}

TEST(NetUser, PublishedUdpPortEchoes) {
    REQUIRE_KVM();
    REQUIRE_PROGRAM("nc");
    std::string port = std::to_string(kiln::test::free_tcp_port());
    Vm vm({KILN_PATH, "run", "-p", "127.0.0.1:" + port + ":7/udp", kUdpEcho});
    EXPECT_EQ(udp_echo({}, "127.0.0.1", port, "ping over slirp"), "ping over slirp\n");
    const RunResult& r = vm.join();
    EXPECT_EQ(r.status, 0) << describe(r);
}

// Outbound: the guest's connection becomes a host socket; 10.0.2.2 is the
// host's loopback, the only host address a guest reaches this way.
TEST(NetUser, GuestConnectsToTheHostLoopback) {
    REQUIRE_KVM();
    int port = kiln::test::free_tcp_port();
    NativeServer server({}, "127.0.0.1", port);
    RunResult r;
    for (int i = 0; i < 20; ++i) {  // until the host server listens
        r = kiln::test::kiln_run({"/bin/busybox", "wget", "-q", "-O", "-",
                                  "http://10.0.2.2:" + std::to_string(port) + "/"});
        if (r.status == 0) break;
        usleep(100 * 1000);
    }
    EXPECT_EQ(r.status, 0) << describe(r);
    EXPECT_EQ(r.out, "hello from kiln\n") << describe(r);
}

TEST(NetTap, PingAndCurlTheGuestInANamespace) {
    REQUIRE_KVM();
    REQUIRE_PROGRAM("curl");
    REQUIRE_PROGRAM("ping");
    kiln::test::NetNs ns;
    if (!ns.unavailable().empty()) GTEST_SKIP() << "SKIPPED: " << ns.unavailable();
    std::string error;
    ASSERT_TRUE(ns.add_tap("ktap0", "10.0.3.1/24", &error)) << error;
    std::vector<std::string> in_ns = {"ip", "netns", "exec", ns.name()};
    std::vector<std::string> argv = in_ns;
    argv.insert(argv.end(), {KILN_PATH, "run", "--net", "tap:ktap0", "--ip", "10.0.3.2/24,10.0.3.1",
                             kServer, "--port", "80", "--max-requests", "2"});
    Vm vm(argv);
    // ping keeps trying until the guest answers three times (it may still
    // be booting), at most 15 s.
    std::vector<std::string> ping = in_ns;
    ping.insert(ping.end(), {"ping", "-c", "3", "-i", "0.2", "-w", "15", "10.0.3.2"});
    RunResult pinged = kiln::test::run(ping);
    EXPECT_EQ(pinged.status, 0) << pinged.out << pinged.err;
    EXPECT_TRUE(contains(pinged.out, "3 received")) << pinged.out;
    RunResult served = curl_until_served(in_ns, "http://10.0.3.2/", "hello from kiln\n");
    EXPECT_EQ(served.out, "hello from kiln\n") << served.err;
    // The second request ends the server, and with it the VM.
    std::vector<std::string> curl = in_ns;
    curl.insert(curl.end(), {"curl", "-s", "-m", "20", "http://10.0.3.2/"});
    EXPECT_EQ(kiln::test::run(curl).out, "hello from kiln\n");
    const RunResult& r = vm.join();
    EXPECT_EQ(r.status, 0) << describe(r);
}

TEST(NetTap, UdpEchoWithNc) {
    REQUIRE_KVM();
    REQUIRE_PROGRAM("nc");
    kiln::test::NetNs ns;
    if (!ns.unavailable().empty()) GTEST_SKIP() << "SKIPPED: " << ns.unavailable();
    std::string error;
    ASSERT_TRUE(ns.add_tap("ktap0", "10.0.3.1/24", &error)) << error;
    std::vector<std::string> in_ns = {"ip", "netns", "exec", ns.name()};
    std::vector<std::string> argv = in_ns;
    argv.insert(argv.end(), {KILN_PATH, "run", "--net", "tap:ktap0", "--ip", "10.0.3.2/24,10.0.3.1",
                             kUdpEcho});
    Vm vm(argv);
    EXPECT_EQ(udp_echo(in_ns, "10.0.3.2", "7", "ping over tap"), "ping over tap\n");
    const RunResult& r = vm.join();
    EXPECT_EQ(r.status, 0) << describe(r);
}

TEST(NetTap, GuestConnectsOutToTheNamespace) {
    REQUIRE_KVM();
    kiln::test::NetNs ns;
    if (!ns.unavailable().empty()) GTEST_SKIP() << "SKIPPED: " << ns.unavailable();
    std::string error;
    ASSERT_TRUE(ns.add_tap("ktap0", "10.0.3.1/24", &error)) << error;
    std::vector<std::string> in_ns = {"ip", "netns", "exec", ns.name()};
    // The server listens on the TAP's address, inside the namespace only.
    NativeServer server(in_ns, "10.0.3.1", 8080);
    RunResult r;
    for (int i = 0; i < 20; ++i) {
        std::vector<std::string> argv = in_ns;
        argv.insert(argv.end(), {KILN_PATH, "run", "--net", "tap:ktap0", "--ip",
                                 "10.0.3.2/24,10.0.3.1", "/bin/busybox", "wget", "-q", "-O", "-",
                                 "http://10.0.3.1:8080/"});
        kiln::test::RunOptions opts;
        opts.env = {{"XDG_CACHE_HOME", kiln::test::cache_dir()}};
        r = kiln::test::run(argv, opts);
        if (r.status == 0) break;
        usleep(100 * 1000);
    }
    EXPECT_EQ(r.status, 0) << describe(r);
    EXPECT_EQ(r.out, "hello from kiln\n") << describe(r);
}

}  // namespace
