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
#include "netns.h"
#include "process.h"

namespace {

using kiln::test::contains;
using kiln::test::describe;
using kiln::test::RunResult;

const std::string kServer = std::string(KILN_GUEST_DIR) + "/http_server-glibc-static";

#define REQUIRE_KVM()                                                        \
    if (std::string why = kiln::test::kvm_unavailable_reason(); !why.empty()) \
    GTEST_SKIP() << "SKIPPED: KVM unavailable (" << why << ")"

#define REQUIRE_PROGRAM(name) \
    if (!kiln::test::have_program(name)) GTEST_SKIP() << "SKIPPED: " name " not installed"

// A TCP port on 127.0.0.1 that is free now.
int free_port() {
    int s = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a = {};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bind(s, reinterpret_cast<sockaddr*>(&a), sizeof(a));
    socklen_t len = sizeof(a);
    getsockname(s, reinterpret_cast<sockaddr*>(&a), &len);
    close(s);
    return ntohs(a.sin_port);
}

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

// curl until the body arrives (the guest may still be booting), at most
// ~10 s; returns curl's last result.
RunResult curl_until_served(const std::vector<std::string>& prefix, const std::string& url,
                            const std::string& body) {
    RunResult r;
    for (int i = 0; i < 50; ++i) {
        std::vector<std::string> argv = prefix;
        argv.insert(argv.end(), {"curl", "-s", "-m", "2", url});
        r = kiln::test::run(argv);
        if (r.status == 0 && contains(r.out, body)) return r;
        usleep(200 * 1000);
    }
    return r;
}

TEST(NetUser, PublishedPortReachesTheGuest) {
    REQUIRE_KVM();
    REQUIRE_PROGRAM("curl");
    std::string port = std::to_string(free_port());
    // The issue's own example: nothing but -p (kiln-vmm tells the kernel
    // slirp's fixed address).
    Vm vm({KILN_PATH, "run", "-p", "127.0.0.1:" + port + ":80", kServer, "--port", "80",
           "--max-requests", "3"});
    std::string url = "http://127.0.0.1:" + port + "/";
    RunResult first = curl_until_served({}, url, "hello from kiln\n");
    EXPECT_EQ(first.out, "hello from kiln\n") << first.err;
    // Two requests on one kept-alive connection.
    RunResult two = kiln::test::run({"curl", "-s", "-m", "5", url, url});
    EXPECT_EQ(two.out, "hello from kiln\nhello from kiln\n") << two.err;
    const RunResult& r = vm.join();
    EXPECT_EQ(r.status, 0) << describe(r);
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
    curl.insert(curl.end(), {"curl", "-s", "-m", "5", "http://10.0.3.2/"});
    EXPECT_EQ(kiln::test::run(curl).out, "hello from kiln\n");
    const RunResult& r = vm.join();
    EXPECT_EQ(r.status, 0) << describe(r);
}

}  // namespace
