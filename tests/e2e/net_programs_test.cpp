// Networking under load and with real servers, end to end:
//  - Debian's nginx (master_process off, daemon off) serving a static file
//    and Debian's redis-server answering redis-benchmark -t get,set, both
//    unmodified, reached from the host through `--net user -p`;
//  - tests/guest/net_echo over a TAP device in a namespace made by the
//    test: 100 MiB each way at once with a checksum, 1,000 connections open
//    at once, and IPv6 (ping and TCP).
// Each scenario is one bash script: the server runs in the background under
// `timeout -k` (a guest that ignores the forwarded SIGTERM is killed 5 s
// later), a trap ends it by PID however the script ends, and the client
// (curl, redis-benchmark, a python3 client) runs in front.
#include <gtest/gtest.h>

#include <string>

#include "kiln_run.h"
#include "skip.h"
#include "netns.h"
#include "process.h"

namespace {

using kiln::test::contains;
using kiln::test::describe;
using kiln::test::RunResult;

const std::string kEcho = std::string(KILN_GUEST_DIR) + "/net_echo-glibc-static";
const std::string kSend = std::string(KILN_GUEST_DIR) + "/net_send-glibc-static";

// Runs a bash script with $KILN set to kiln and the shared image cache.
RunResult script(const std::string& text, int timeout_s = 150) {
    kiln::test::RunOptions opts;
    opts.timeout_s = timeout_s;
    opts.env = {{"XDG_CACHE_HOME", kiln::test::cache_dir()}, {"KILN", KILN_PATH}};
    return kiln::test::run({"bash", "-c", "set -u\n" + text}, opts);
}

// The common start of a script: the server command in the background, its
// PID kept, ended on exit, and a wait until `ready` (a shell condition)
// holds or the server is gone.
std::string start_server(const std::string& command, const std::string& ready) {
    return "S=$(mktemp -d)\n"
           "timeout -k 5 120 " + command + " >$S/out 2>$S/err &\n"
           "srv=$!\n"
           "trap 'kill -TERM $srv 2>/dev/null; wait $srv 2>/dev/null; "
           "echo \"--- server stderr\" >&2; tail -c 3000 $S/err >&2; rm -rf $S' EXIT\n"
           "for i in $(seq 1 200); do\n"
           "  if " + ready + "; then break; fi\n"
           "  kill -0 $srv 2>/dev/null || { echo 'server died' >&2; exit 1; }\n"
           "  sleep 0.05\n"
           "done\n";
}

// A python3 client for the echo server: `bulk HOST PORT BYTES` sends and
// receives at once and compares SHA-256 digests; `many HOST PORT N` opens N
// connections before using any, then sends a line on each and reads it back.
const char* kEchoClient = R"PY(
import hashlib, os, socket, sys, threading
mode, host, port, n = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
if mode == 'bulk':
    s = socket.create_connection((host, port), timeout=60)
    block = os.urandom(1 << 20)
    sent, got = hashlib.sha256(), hashlib.sha256()
    count = [0]
    def reader():
        while count[0] < n:
            b = s.recv(1 << 20)
            if not b:
                break
            got.update(b)
            count[0] += len(b)
    t = threading.Thread(target=reader)
    t.start()
    left = n
    while left:
        chunk = block[:min(left, len(block))]
        s.sendall(chunk)
        sent.update(chunk)
        left -= len(chunk)
    s.shutdown(socket.SHUT_WR)
    t.join()
    print('bulk', count[0], sent.hexdigest() == got.hexdigest())
else:
    socks = [socket.create_connection((host, port), timeout=60) for i in range(n)]
    for i, c in enumerate(socks):
        c.sendall(b'connection %d\n' % i)
    ok = 0
    for i, c in enumerate(socks):
        want, buf = b'connection %d\n' % i, b''
        while len(buf) < len(want):
            b = c.recv(64)
            if not b:
                break
            buf += b
        ok += buf == want
    print('many', ok, 'of', n)
)PY";

// ---- Debian's servers through --net user -p ----------------------------------

TEST(NetPrograms, NginxServesAStaticFile) {
    REQUIRE_KVM();
    REQUIRE_PROGRAM("nginx");
    REQUIRE_PROGRAM("curl");
    const std::string conf = kiln::test::write_file("nginx.conf",
        "daemon off;\n"
        "master_process off;\n"
        "worker_processes 1;\n"
        "error_log stderr notice;\n"
        "pid /tmp/nginx.pid;\n"
        "events { worker_connections 256; }\n"
        "http {\n"
        "    access_log off;\n"
        "    client_body_temp_path /tmp/cb;\n"
        "    proxy_temp_path /tmp/px;\n"
        "    fastcgi_temp_path /tmp/fc;\n"
        "    uwsgi_temp_path /tmp/uw;\n"
        "    scgi_temp_path /tmp/sc;\n"
        "    server { listen 80; root /srv; }\n"
        "}\n");
    const std::string page = kiln::test::write_file("index.html", "served by nginx in kiln\n");
    // A 1 MiB file too, so that sendfile and many segments are exercised.
    const std::string big = kiln::test::write_file("big.bin", std::string(1 << 20, 'k'));
    RunResult r = script(
        "P=$(python3 -c 'import socket; s=socket.socket(); s.bind((\"127.0.0.1\",0)); "
        "print(s.getsockname()[1])')\n" +
        start_server("$KILN run -p 127.0.0.1:$P:80 --copy " + conf +
                         ":/etc/nginx/nginx.conf --copy " + page + ":/srv/index.html --copy " +
                         big + ":/srv/big.bin /usr/sbin/nginx -c /etc/nginx/nginx.conf",
                     "curl -s -o /dev/null http://127.0.0.1:$P/") +
        "curl -s -i http://127.0.0.1:$P/index.html | tr -d '\\r' | grep -E '^HTTP|^served'\n"
        "curl -s http://127.0.0.1:$P/big.bin | sha256sum | cut -c1-16\n"
        "head -c $((1 << 20)) /dev/zero | tr '\\0' k | sha256sum | cut -c1-16\n"
        "curl -s -o /dev/null -w '%{http_code}\\n' http://127.0.0.1:$P/missing\n");
    EXPECT_EQ(r.status, 0) << describe(r);
    const auto lines = r.out;
    EXPECT_TRUE(contains(lines, "HTTP/1.1 200 OK\nserved by nginx in kiln\n")) << describe(r);
    // The two digests (served and expected) are the same line twice.
    const size_t a = lines.find("\n", lines.find("served by nginx"));
    ASSERT_NE(a, std::string::npos) << describe(r);
    const std::string rest = lines.substr(a + 1);
    ASSERT_GE(rest.size(), 34u) << describe(r);
    EXPECT_EQ(rest.substr(0, 17), rest.substr(17, 17)) << describe(r);
    EXPECT_TRUE(contains(rest, "404\n")) << describe(r);
}

TEST(NetPrograms, RedisAnswersRedisBenchmark) {
    REQUIRE_KVM();
    REQUIRE_PROGRAM("redis-server");
    REQUIRE_PROGRAM("redis-benchmark");
    REQUIRE_PROGRAM("redis-cli");
    RunResult r = script(
        "P=$(python3 -c 'import socket; s=socket.socket(); s.bind((\"127.0.0.1\",0)); "
        "print(s.getsockname()[1])')\n" +
        start_server("$KILN run --mem 256M -p 127.0.0.1:$P:6379 /usr/bin/redis-server --save '' "
                     "--appendonly no --protected-mode no --bind 0.0.0.0",
                     "[ \"$(redis-cli -p $P ping 2>/dev/null)\" = PONG ]") +
        "redis-cli -p $P set kiln unikernel\n"
        "redis-cli -p $P get kiln\n"
        "timeout 100 redis-benchmark -p $P -t get,set -n 10000 -q | tr '\\r' '\\n' | "
        "grep -E '^(SET|GET): [0-9.]+ requests per second'\n"
        "echo benchmark=${PIPESTATUS[0]}\n",
        180);
    EXPECT_EQ(r.status, 0) << describe(r);
    EXPECT_TRUE(contains(r.out, "OK\nunikernel\n")) << describe(r);
    EXPECT_TRUE(contains(r.out, "\nSET: ")) << describe(r);
    EXPECT_TRUE(contains(r.out, "\nGET: ")) << describe(r);
    EXPECT_TRUE(contains(r.out, "benchmark=0\n")) << describe(r);
}

// ---- net_echo over a TAP device in a test namespace ------------------------

class NetTapLoad : public ::testing::Test {
protected:
    void SetUp() override {
        REQUIRE_KVM();
        REQUIRE_PROGRAM("python3");
        if (!ns_.unavailable().empty()) GTEST_SKIP() << "SKIPPED: " << ns_.unavailable();
        std::string error;
        ASSERT_TRUE(ns_.add_tap("ktap0", "10.0.2.2/24", &error)) << error;
        client_ = kiln::test::write_file("echo_client.py", kEchoClient);
    }
    // The echo server in the namespace, with `extra` kiln run options.
    std::string start_echo(const std::string& extra = "") {
        return start_server("ip netns exec " + ns_.name() +
                                " $KILN run --mem 256M --net tap:ktap0 --ip 10.0.2.15/24,10.0.2.2 " +
                                extra + " " + kEcho + " --port 7",
                            "grep -q listening $S/out");
    }
    std::string in_ns(const std::string& command) {
        return "ip netns exec " + ns_.name() + " " + command + "\n";
    }
    kiln::test::NetNs ns_;
    std::string client_;
};

TEST_F(NetTapLoad, HundredMiBEachWayWithAChecksum) {
    RunResult r = script(start_echo() +
                         in_ns("timeout 100 python3 " + client_ + " bulk 10.0.2.15 7 104857600"));
    EXPECT_EQ(r.status, 0) << describe(r);
    EXPECT_EQ(r.out, "bulk 104857600 True\n") << describe(r);
}

TEST_F(NetTapLoad, ThousandConnectionsAtOnce) {
    RunResult r = script(start_echo() +
                         in_ns("timeout 100 python3 " + client_ + " many 10.0.2.15 7 1000"));
    EXPECT_EQ(r.status, 0) << describe(r);
    EXPECT_EQ(r.out, "many 1000 of 1000\n") << describe(r);
}

// What a program writes just before it exits still arrives: 4 MiB written
// and exit() at once, no close — as with a Linux process, the kernel closes
// the connection and the VM ends only once the peer has it all (or after a
// bounded wait).
TEST_F(NetTapLoad, DataWrittenJustBeforeExitArrives) {
    const std::string sink = kiln::test::write_file("sink.py",
        "import socket, sys\n"
        "s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)\n"
        "s.bind(('10.0.2.2', 9100)); s.listen(1)\n"
        "print('ready', flush=True)\n"
        "c, _ = s.accept(); n = 0\n"
        "while True:\n"
        "    b = c.recv(1 << 16)\n"
        "    if not b: break\n"
        "    n += len(b)\n"
        "print('received', n)\n");
    RunResult r = script(start_server("ip netns exec " + ns_.name() + " python3 " + sink,
                                      "grep -q ready $S/out") +
                         in_ns("timeout 60 $KILN run --net tap:ktap0 --ip 10.0.2.15/24,10.0.2.2 " +
                               kSend + " 10.0.2.2 9100 4194304") +
                         "echo sent=$?\n"
                         "for i in $(seq 1 100); do grep -q received $S/out && break; sleep 0.05; done\n"
                         "cat $S/out\n");
    EXPECT_EQ(r.status, 0) << describe(r);
    EXPECT_EQ(r.out, "sent=0\nready\nreceived 4194304\n") << describe(r);
}

TEST_F(NetTapLoad, Ipv6PingAndTcp) {
    REQUIRE_PROGRAM("ping");
    std::string error;
    ASSERT_TRUE(ns_.ip({"link", "set", "ktap0", "down"}, &error)) << error;
    RunResult v6 = ns_.exec({"sysctl", "-qw", "net.ipv6.conf.ktap0.disable_ipv6=0"});
    ASSERT_EQ(v6.status, 0) << v6.err;
    ASSERT_TRUE(ns_.ip({"-6", "addr", "add", "fd00::2/64", "dev", "ktap0", "nodad"}, &error))
        << error;
    ASSERT_TRUE(ns_.ip({"link", "set", "ktap0", "up"}, &error)) << error;
    RunResult r = script(start_echo("--ip6 fd00::15/64") +
                         in_ns("ping -6 -c 3 -i 0.2 -W 2 fd00::15 | grep -c ' from fd00::15'") +
                         in_ns("timeout 60 python3 " + client_ + " bulk fd00::15 7 1048576") +
                         in_ns("timeout 60 python3 " + client_ + " many fd00::15 7 20"));
    EXPECT_EQ(r.status, 0) << describe(r);
    EXPECT_EQ(r.out, "3\nbulk 1048576 True\nmany 20 of 20\n") << describe(r);
}

}  // namespace
