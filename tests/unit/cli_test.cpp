// cli/: the cpio newc writer (also round-tripped through the cpio tool),
// the ld.so.cache reader, `kiln run` option parsing, the per-run data, the
// image builder's path walk and the dependency resolver.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "cpio_writer.h"
#include "deps.h"
#include "file.h"
#include "image.h"
#include "ld_cache.h"
#include "run_data.h"
#include "run_options.h"

using namespace kiln::cli;
namespace fs = std::filesystem;

namespace {

// A fresh directory, removed with its contents when the test ends.
class TempDir {
public:
    TempDir() {
        char tmpl[] = "/tmp/kiln-cli-test-XXXXXX";
        path_ = mkdtemp(tmpl);
    }
    ~TempDir() { fs::remove_all(path_); }
    const std::string& path() const { return path_; }
    std::string operator/(const std::string& name) const { return path_ + "/" + name; }

private:
    std::string path_;
};

std::string slurp(const std::string& path) {
    std::string s;
    EXPECT_TRUE(read_whole_file(path, &s)) << path;
    return s;
}

void spit(const std::string& path, const std::string& data) {
    std::ofstream(path, std::ios::binary) << data;
}

std::string archive(const std::function<void(CpioWriter&)>& fill) {
    TempDir d;
    std::string path = d / "a.cpio";
    int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    {
        CpioWriter w(fd);
        fill(w);
        EXPECT_TRUE(w.finish()) << w.error();
    }
    close(fd);
    return slurp(path);
}

// One header field (0-based index after the magic) as a number.
uint32_t field(const std::string& a, size_t header_at, int index) {
    return uint32_t(std::stoul(a.substr(header_at + 6 + 8 * index, 8), nullptr, 16));
}

bool have(const char* tool) {
    std::string cmd = std::string("command -v ") + tool + " >/dev/null 2>&1";
    return system(cmd.c_str()) == 0;
}

// ---- cpio writer ----------------------------------------------------------

TEST(CpioWriter, HeaderLayoutAndPadding) {
    std::string a = archive([](CpioWriter& w) { w.add_file("/f", 0644, 1234, "abcde"); });
    ASSERT_GE(a.size(), 110u);
    EXPECT_EQ(a.substr(0, 6), "070701");
    EXPECT_EQ(field(a, 0, 0), 1u);        // ino
    EXPECT_EQ(field(a, 0, 1), 0100644u);  // mode: S_IFREG | 0644
    EXPECT_EQ(field(a, 0, 4), 1u);        // nlink
    EXPECT_EQ(field(a, 0, 5), 1234u);     // mtime
    EXPECT_EQ(field(a, 0, 6), 5u);        // filesize
    EXPECT_EQ(field(a, 0, 11), 2u);       // namesize "f\0": leading '/' dropped
    EXPECT_EQ(a.substr(110, 2), std::string("f\0", 2));
    // 110 + 2 = 112 is 4-aligned; the data follows, then pads to 120.
    EXPECT_EQ(a.substr(112, 5), "abcde");
    EXPECT_EQ(a.substr(117, 3), std::string(3, '\0'));
    EXPECT_EQ(a.substr(120, 6), "070701");
    EXPECT_EQ(a.substr(120 + 110, 11), std::string("TRAILER!!!\0", 11));
    EXPECT_EQ(a.size() % 512, 0u);
}

TEST(CpioWriter, RejectsBadNamesAndKeepsTheFirstError) {
    TempDir d;
    int fd = open((d / "x").c_str(), O_WRONLY | O_CREAT, 0600);
    CpioWriter w(fd);
    EXPECT_FALSE(w.add_file("", 0644, 0, "x"));
    EXPECT_FALSE(w.add_directory("/", 0755, 0));  // nothing left after the '/'
    EXPECT_FALSE(w.finish());
    EXPECT_NE(w.error().find("bad archive name"), std::string::npos);
    close(fd);
}

TEST(CpioWriter, ReportsWriteFailure) {
    int fd = open("/dev/full", O_WRONLY);
    ASSERT_GE(fd, 0);
    CpioWriter w(fd);
    EXPECT_TRUE(w.add_file("f", 0644, 0, "x"));  // buffered
    EXPECT_FALSE(w.finish());
    EXPECT_NE(w.error().find("write"), std::string::npos);
    close(fd);
}

TEST(CpioWriter, RoundTripsThroughTheCpioTool) {
    if (!have("cpio")) GTEST_SKIP() << "cpio not installed (scripts/setup installs it)";
    TempDir d;
    std::string big(300000, '\0');
    for (size_t i = 0; i < big.size(); ++i) big[i] = char(i * 7 + 3);
    spit(d / "big.src", big);
    std::string path = d / "a.cpio";
    int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    int src = open((d / "big.src").c_str(), O_RDONLY);
    CpioWriter w(fd);
    EXPECT_TRUE(w.add_directory("/dir", 0750, 1000000));
    EXPECT_TRUE(w.add_file("/dir/small", 0640, 1000001, "hello\n"));
    EXPECT_TRUE(w.add_file("dir/empty", 0600, 0, ""));
    EXPECT_TRUE(w.add_file_from("/dir/big", 0755, 0, src, big.size()));
    EXPECT_TRUE(w.add_symlink("/dir/link", "small", 0));
    EXPECT_TRUE(w.finish()) << w.error();
    close(src);
    close(fd);

    std::string out = d / "out";
    mkdir(out.c_str(), 0755);
    std::string cmd = "cd " + out + " && cpio -idm --quiet < " + path;
    ASSERT_EQ(system(cmd.c_str()), 0);
    EXPECT_EQ(slurp(out + "/dir/small"), "hello\n");
    EXPECT_EQ(slurp(out + "/dir/empty"), "");
    EXPECT_EQ(slurp(out + "/dir/big"), big);
    EXPECT_EQ(fs::read_symlink(out + "/dir/link"), "small");
    struct stat st;
    ASSERT_EQ(stat((out + "/dir/small").c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 07777, 0640u);
    EXPECT_EQ(st.st_mtime, 1000001);
    ASSERT_EQ(stat((out + "/dir").c_str(), &st), 0);
    EXPECT_TRUE(S_ISDIR(st.st_mode));
    EXPECT_EQ(st.st_mode & 07777, 0750u);

    // And the other way: what cpio -o writes has the layout we write.
    std::string listing = d / "list";
    cmd = "cd " + out + " && find dir | LC_ALL=C sort | cpio -o -H newc --quiet > " + d.path() +
          "/b.cpio";
    ASSERT_EQ(system(cmd.c_str()), 0);
    std::string b = slurp(d / "b.cpio");
    EXPECT_EQ(b.substr(0, 6), "070701");
    EXPECT_EQ(field(b, 0, 11), 4u);  // "dir\0"
    EXPECT_EQ(b.substr(110, 4), std::string("dir\0", 4));
}

TEST(CpioWriter, FileThatShrankIsAnError) {
    TempDir d;
    spit(d / "src", "abc");
    int fd = open((d / "a").c_str(), O_WRONLY | O_CREAT, 0600);
    int src = open((d / "src").c_str(), O_RDONLY);
    CpioWriter w(fd);
    EXPECT_FALSE(w.add_file_from("f", 0644, 0, src, 10));
    EXPECT_NE(w.error().find("shrank"), std::string::npos);
    close(src);
    close(fd);
}

// ---- ld.so.cache ------------------------------------------------------------

struct CacheEntry {
    int32_t flags;
    std::string key, value;
    uint64_t hwcap = 0;
};

// A cache in the glibc-ld.so.cache1.1 format (see cli/ld_cache.h).
std::string make_cache(const std::vector<CacheEntry>& entries) {
    std::string strings;
    std::vector<std::pair<uint32_t, uint32_t>> offs;
    size_t base = 48 + 24 * entries.size();
    for (const auto& e : entries) {
        uint32_t k = base + strings.size();
        strings += e.key + '\0';
        uint32_t v = base + strings.size();
        strings += e.value + '\0';
        offs.push_back({k, v});
    }
    std::string c = "glibc-ld.so.cache1.1";
    auto u32 = [&](uint32_t v) { c.append(reinterpret_cast<char*>(&v), 4); };
    auto u64 = [&](uint64_t v) { c.append(reinterpret_cast<char*>(&v), 8); };
    u32(entries.size());
    u32(strings.size());
    c += std::string("\x02\0\0\0", 4);  // flags: little-endian, padding
    u32(0);                             // extension offset
    u32(0), u32(0), u32(0);
    for (size_t i = 0; i < entries.size(); ++i) {
        u32(entries[i].flags);
        u32(offs[i].first);
        u32(offs[i].second);
        u32(0);
        u64(entries[i].hwcap);
    }
    return c + strings;
}

TEST(LdCache, ParsesX8664EntriesOnly) {
    std::string c = make_cache({{0x0303, "libz.so.1", "/lib/x86_64-linux-gnu/libz.so.1"},
                                {0x0003, "libz.so.1", "/lib32/libz.so.1"},   // i386
                                {0x0803, "libq.so", "/usr/libx32/libq.so"},  // x32
                                {0x0303, "libm.so.6", "/lib/x86_64-linux-gnu/libm.so.6"}});
    auto cache = LdCache::parse(c);
    ASSERT_TRUE(cache.has_value());
    EXPECT_EQ(cache->lookup("libz.so.1"), "/lib/x86_64-linux-gnu/libz.so.1");
    EXPECT_EQ(cache->lookup("libm.so.6"), "/lib/x86_64-linux-gnu/libm.so.6");
    EXPECT_EQ(cache->lookup("libq.so"), "");
    EXPECT_EQ(cache->lookup("libnope.so"), "");
    EXPECT_EQ(cache->size(), 2u);
}

TEST(LdCache, FirstEntryWinsButPlainBeatsHwcaps) {
    std::string c = make_cache({{0x0303, "liba.so", "/first/liba.so"},
                                {0x0303, "liba.so", "/second/liba.so"},
                                {0x0303, "libb.so", "/glibc-hwcaps/x86-64-v3/libb.so", 1ull << 62},
                                {0x0303, "libb.so", "/plain/libb.so"}});
    auto cache = LdCache::parse(c);
    ASSERT_TRUE(cache.has_value());
    EXPECT_EQ(cache->lookup("liba.so"), "/first/liba.so");
    EXPECT_EQ(cache->lookup("libb.so"), "/plain/libb.so");
}

TEST(LdCache, AcceptsTheOldFormatInFront) {
    std::string inner = make_cache({{0x0303, "libc.so.6", "/lib/libc.so.6"}});
    std::string old = std::string("ld.so-1.7.0\0", 12);
    uint32_t n = 1;
    old.append(reinterpret_cast<char*>(&n), 4);
    old += std::string(12, '\0');  // one old entry
    while (old.size() % 8) old += '\0';
    auto cache = LdCache::parse(old + inner);
    ASSERT_TRUE(cache.has_value());
    EXPECT_EQ(cache->lookup("libc.so.6"), "/lib/libc.so.6");
}

TEST(LdCache, RejectsMalformedCaches) {
    std::string good = make_cache({{0x0303, "libz.so.1", "/lib/libz.so.1"}});
    EXPECT_FALSE(LdCache::parse("").has_value());
    EXPECT_FALSE(LdCache::parse("glibc-ld.so.cache1.0" + good.substr(20)).has_value());
    for (size_t n : {size_t(20), size_t(47), size_t(60)}) {
        EXPECT_FALSE(LdCache::parse(good.substr(0, n)).has_value()) << n;
    }
    std::string many = good;
    uint32_t huge = 0x10000000;
    memcpy(&many[20], &huge, 4);  // nlibs far past the file
    EXPECT_FALSE(LdCache::parse(many).has_value());
    std::string badoff = good;
    uint32_t off = 0xffffff00;
    memcpy(&badoff[48 + 4], &off, 4);  // key offset outside
    EXPECT_FALSE(LdCache::parse(badoff).has_value());
    std::string nonul = good.substr(0, good.size() - 1);  // last string loses its NUL
    EXPECT_FALSE(LdCache::parse(nonul).has_value());
    std::string oldbad = std::string("ld.so-1.7.0\0", 12) + std::string("\xff\xff\xff\x0f", 4);
    EXPECT_FALSE(LdCache::parse(oldbad).has_value());
}

TEST(LdCache, ReadsThisHostsCache) {
    struct stat st;
    if (stat("/etc/ld.so.cache", &st) != 0) GTEST_SKIP() << "no /etc/ld.so.cache here";
    LdCache c = LdCache::load("/etc/ld.so.cache");
    EXPECT_GT(c.size(), 0u);
    std::string libc = c.lookup("libc.so.6");
    EXPECT_NE(libc.find("libc.so.6"), std::string::npos);
    EXPECT_EQ(stat(libc.c_str(), &st), 0) << libc;
}

// ---- kiln run options -------------------------------------------------------

RunOptions parse_ok(std::vector<std::string> words) {
    RunOptions o;
    std::string err;
    EXPECT_TRUE(parse_run_options(words, &o, &err, [](const char* k) -> const char* {
        return strcmp(k, "FROM_HOST") == 0 ? "host-value" : nullptr;
    })) << err;
    return o;
}

std::string parse_err(std::vector<std::string> words) {
    RunOptions o;
    std::string err;
    EXPECT_FALSE(parse_run_options(words, &o, &err));
    return err;
}

TEST(RunOptions, NetworkDefaultsToUserMode) {
    RunOptions o = parse_ok({"prog"});
    EXPECT_EQ(o.net, "user");
    EXPECT_TRUE(o.publish.empty());
    EXPECT_EQ(o.mac, "");
}

TEST(RunOptions, NetworkOptions) {
    RunOptions o = parse_ok({"--net", "tap:tap0", "--mac", "52:54:00:ab:cd:ef", "prog"});
    EXPECT_EQ(o.net, "tap:tap0");
    EXPECT_EQ(o.mac, "52:54:00:ab:cd:ef");
    EXPECT_EQ(parse_ok({"--ip", "10.0.3.2/24,10.0.3.1,10.0.3.1", "prog"}).ip,
              "10.0.3.2/24,10.0.3.1,10.0.3.1");
    EXPECT_EQ(parse_ok({"--ip=10.0.3.2/24", "prog"}).ip, "10.0.3.2/24");
    o = parse_ok({"--net=none", "prog"});
    EXPECT_EQ(o.net, "none");
    // Every -p form, repeatable, in order.
    o = parse_ok({"-p", "8080:80", "--publish", "127.0.0.1:8081:80", "-p=0.0.0.0:5353:53/udp",
                  "--publish=9090:90/tcp", "prog", "-p", "1:2"});
    EXPECT_EQ(o.publish, (std::vector<std::string>{"8080:80", "127.0.0.1:8081:80",
                                                   "0.0.0.0:5353:53/udp", "9090:90/tcp"}));
    EXPECT_EQ(o.args, (std::vector<std::string>{"-p", "1:2"}));
}

TEST(RunOptions, BadNetworkOptionsSayWhatIsWrong) {
    auto has = [](const std::string& err, const char* part) {
        return err.find(part) != std::string::npos;
    };
    EXPECT_TRUE(has(parse_err({"--net", "bridge", "prog"}), "not a network mode")) ;
    EXPECT_TRUE(has(parse_err({"--net", "tap:", "prog"}), "TAP device's name"));
    EXPECT_TRUE(has(parse_err({"-p", "80", "prog"}), "no host port"));
    EXPECT_TRUE(has(parse_err({"-p", "0:80", "prog"}), "host port '0'"));
    EXPECT_TRUE(has(parse_err({"-p", "65536:80", "prog"}), "host port '65536'"));
    EXPECT_TRUE(has(parse_err({"-p", "8080:", "prog"}), "guest port ''"));
    EXPECT_TRUE(has(parse_err({"-p", "8080:http", "prog"}), "guest port 'http'"));
    EXPECT_TRUE(has(parse_err({"-p", "8080:80/icmp", "prog"}), "tcp or udp"));
    EXPECT_TRUE(has(parse_err({"-p", "256.0.0.1:8080:80", "prog"}), "not an IPv4 address"));
    EXPECT_TRUE(has(parse_err({"-p", "localhost:8080:80", "prog"}), "not an IPv4 address"));
    EXPECT_TRUE(has(parse_err({"-p", "[::1]:8080:80", "prog"}), "IPv6"));
    EXPECT_TRUE(has(parse_err({"-p", "1:2:3:4", "prog"}), "too many ':'"));
    EXPECT_TRUE(has(parse_err({"-p", "8000-8001:80", "prog"}), "ranges"));
    EXPECT_TRUE(has(parse_err({"-p", "8080:80", "-p", "8080:81", "prog"}), "already published"));
    // 8080/tcp and 8080/udp are different ports.
    parse_ok({"-p", "8080:80", "-p", "8080:80/udp", "prog"});
    EXPECT_TRUE(has(parse_err({"--net", "tap:tap0", "-p", "8080:80", "prog"}), "--net user"));
    EXPECT_TRUE(has(parse_err({"--net", "none", "-p", "8080:80", "prog"}), "--net user"));
    EXPECT_TRUE(has(parse_err({"--mac", "52:54:00:12:34", "prog"}), "not a MAC address"));
    EXPECT_TRUE(has(parse_err({"--mac", "ff:ff:ff:ff:ff:ff", "prog"}), "multicast"));
    EXPECT_TRUE(has(parse_err({"--mac", "00:00:00:00:00:00", "prog"}), "all-zero"));
    EXPECT_TRUE(has(parse_err({"--net", "none", "--mac", "52:54:00:12:34:56", "prog"}),
                    "--mac needs a network"));
    EXPECT_TRUE(has(parse_err({"-p"}), "-p needs a value"));
    EXPECT_TRUE(has(parse_err({"--ip", "10.0.3.2", "prog"}), "/PREFIX"));
    EXPECT_TRUE(has(parse_err({"--ip", "10.0.3.2/33", "prog"}), "prefix length"));
    EXPECT_TRUE(has(parse_err({"--ip", "10.0.3.2/24,gw", "prog"}), "'gw' is not an IPv4 gateway"));
    EXPECT_TRUE(has(parse_err({"--ip", "10.0.3.2/24,10.0.3.1,x", "prog"}), "DNS server"));
    EXPECT_TRUE(has(parse_err({"--ip", "10.0.3.2/24,1.1.1.1,1.1.1.1,1.1.1.1", "prog"}), "--ip"));
    EXPECT_TRUE(has(parse_err({"--net", "none", "--ip", "10.0.3.2/24", "prog"}), "--ip needs"));
}

TEST(RunOptions, OptionsStopAtProgram) {
    RunOptions o = parse_ok({"--mem", "256M", "-e", "A=1", "--env=B=2", "--strace", "--copy",
                             "/etc/hosts:/etc/hosts", "prog", "--mem", "-e", "x"});
    EXPECT_EQ(o.mem, "256M");
    EXPECT_EQ(o.mem_bytes, 256ull << 20);
    EXPECT_EQ(o.env, (std::vector<std::string>{"A=1", "B=2"}));
    EXPECT_TRUE(o.strace);
    ASSERT_EQ(o.copies.size(), 1u);
    EXPECT_EQ(o.copies[0].src, "/etc/hosts");
    EXPECT_EQ(o.copies[0].dst, "/etc/hosts");
    EXPECT_EQ(o.program, "prog");
    EXPECT_EQ(o.args, (std::vector<std::string>{"--mem", "-e", "x"}));
}

TEST(RunOptions, DoubleDashAndEqualsForms) {
    RunOptions o = parse_ok({"--mem=1G", "--", "--weird-name", "a"});
    EXPECT_EQ(o.mem_bytes, 1ull << 30);
    EXPECT_EQ(o.program, "--weird-name");
    EXPECT_EQ(o.args, (std::vector<std::string>{"a"}));
    EXPECT_EQ(parse_ok({"--mem", "512MiB", "p"}).mem_bytes, 512ull << 20);
}

TEST(RunOptions, EnvPassThroughAndValues) {
    RunOptions o =
        parse_ok({"-e", "FROM_HOST", "-e", "UNSET_ON_HOST", "-e", "E=", "-e", "X=a=b", "p"});
    EXPECT_EQ(o.env, (std::vector<std::string>{"FROM_HOST=host-value", "E=", "X=a=b"}));
}

TEST(RunOptions, CopyTakesTheLastColonAndNormalizes) {
    RunOptions o = parse_ok({"--copy", "./a:b:/x/./y/../z/", "p"});
    ASSERT_EQ(o.copies.size(), 1u);
    EXPECT_EQ(o.copies[0].src, "./a:b");
    EXPECT_EQ(o.copies[0].dst, "/x/z");
}

TEST(RunOptions, Errors) {
    EXPECT_NE(parse_err({"--frobnicate", "p"}).find("unknown option '--frobnicate'"),
              std::string::npos);
    EXPECT_NE(parse_err({}).find("no PROGRAM"), std::string::npos);
    EXPECT_NE(parse_err({"--strace"}).find("no PROGRAM"), std::string::npos);
    EXPECT_NE(parse_err({"--mem"}).find("--mem needs a value"), std::string::npos);
    EXPECT_NE(parse_err({"--mem", "lots", "p"}).find("not a size"), std::string::npos);
    EXPECT_NE(parse_err({"--mem", "1M", "p"}).find("minimum"), std::string::npos);
    EXPECT_NE(parse_err({"-e", "=x", "p"}).find("not KEY=VAL"), std::string::npos);
    EXPECT_NE(parse_err({"--copy", "nocolon", "p"}).find("SRC:DST"), std::string::npos);
    EXPECT_NE(parse_err({"--copy", ":/x", "p"}).find("SRC:DST"), std::string::npos);
    EXPECT_NE(parse_err({"--copy", "a:rel", "p"}).find("absolute"), std::string::npos);
    EXPECT_NE(parse_err({"--copy", "a:/", "p"}).find("cannot be /"), std::string::npos);
}

TEST(RunOptions, Help) {
    EXPECT_TRUE(parse_ok({"--help"}).help);
    EXPECT_TRUE(parse_ok({"--mem", "64M", "-h"}).help);
    EXPECT_FALSE(parse_ok({"prog", "--help"}).help);  // the program's --help
}

// ---- per-run data -------------------------------------------------------------

TEST(RunData, DockerDefaultsThenUserValues) {
    auto env = run_environment({"A=1", "HOME=/home/x", "A=2"});
    EXPECT_EQ(env, (std::vector<std::string>{
                       "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
                       "HOME=/home/x", "A=2"}));
}

TEST(RunData, ArchiveHoldsArgvAndEnv) {
    if (!have("cpio")) GTEST_SKIP() << "cpio not installed (scripts/setup installs it)";
    TempDir d;
    int fd = open((d / "run.cpio").c_str(), O_WRONLY | O_CREAT, 0600);
    std::string err;
    ASSERT_TRUE(write_run_data(fd, {"/bin/prog", "a b", ""}, {"K=V"}, &err)) << err;
    close(fd);
    std::string cmd = "cd " + d.path() + " && cpio -id --quiet < run.cpio";
    ASSERT_EQ(system(cmd.c_str()), 0);
    EXPECT_EQ(slurp(d / ".kiln/argv"), std::string("/bin/prog\0a b\0\0", 15));
    EXPECT_EQ(slurp(d / ".kiln/env"), std::string("K=V\0", 4));
}

// ---- paths and the image builder ----------------------------------------------

TEST(Paths, Normalize) {
    EXPECT_EQ(normalize_path("/a/./b//c/../d/"), "/a/b/d");
    EXPECT_EQ(normalize_path("/../x"), "/x");
    EXPECT_EQ(normalize_path("/"), "/");
    EXPECT_EQ(normalize_path("a/../../b"), "../b");
    EXPECT_EQ(normalize_path("."), ".");
    EXPECT_EQ(dir_name("/a/b"), "/a");
    EXPECT_EQ(dir_name("/a"), "/");
    EXPECT_EQ(dir_name("a"), ".");
    EXPECT_EQ(join_path("/a/", "/b"), "/a/b");
}

TEST(ImageBuilder, WalkStoresSymlinksAndFollowsThem) {
    TempDir d;
    // d/real/lib/libx.so.1.2 ; d/lib -> real/lib ; d/real/lib/libx.so.1 -> libx.so.1.2
    fs::create_directories(d / "real/lib");
    spit(d / "real/lib/libx.so.1.2", "ELF?");
    fs::create_symlink("real/lib", d / "lib");
    fs::create_symlink("libx.so.1.2", d / "real/lib/libx.so.1");
    ImageBuilder b;
    std::string err;
    ASSERT_TRUE(b.add_host_path(d / "lib/libx.so.1", &err)) << err;
    std::string root(d.path().substr(1));
    const auto& e = b.entries();
    ASSERT_TRUE(e.count(root + "/lib"));
    EXPECT_EQ(e.at(root + "/lib").kind, ImageEntry::Kind::kSymlink);
    EXPECT_EQ(e.at(root + "/lib").target, "real/lib");
    EXPECT_EQ(e.at(root + "/real/lib/libx.so.1").kind, ImageEntry::Kind::kSymlink);
    EXPECT_EQ(e.at(root + "/real/lib/libx.so.1.2").kind, ImageEntry::Kind::kFile);
    EXPECT_EQ(e.at(root + "/real/lib/libx.so.1.2").size, 4u);
    EXPECT_EQ(e.at(root + "/real").kind, ImageEntry::Kind::kDir);
    EXPECT_FALSE(e.count(root + "/lib/libx.so.1"));  // never through the link
    // Inputs: the two links and the file, not the directories.
    EXPECT_EQ(b.inputs(), (std::vector<std::string>{d / "lib", d / "real/lib/libx.so.1",
                                                    d / "real/lib/libx.so.1.2"}));
    // Parents come before children.
    std::string prev;
    for (const auto& [name, entry] : e) {
        EXPECT_LT(prev, name);
        prev = name;
    }
}

TEST(ImageBuilder, WalkErrors) {
    TempDir d;
    ImageBuilder b;
    std::string err;
    EXPECT_FALSE(b.add_host_path(d / "missing", &err));
    EXPECT_NE(err.find("No such file"), std::string::npos) << err;
    fs::create_symlink("loop", d / "loop");
    err.clear();
    EXPECT_FALSE(b.add_host_path(d / "loop", &err));
    EXPECT_NE(err.find("too many levels"), std::string::npos) << err;
    spit(d / "file", "x");
    err.clear();
    EXPECT_FALSE(b.add_host_path(d / "file/below", &err));
    EXPECT_NE(err.find("Not a directory"), std::string::npos) << err;
}

TEST(ImageBuilder, CopyTreeAtDestinationThroughImageSymlinks) {
    TempDir d;
    fs::create_directories(d / "src/sub");
    spit(d / "src/a", "A");
    spit(d / "src/sub/b", "B");
    fs::create_symlink("a", d / "src/link");
    fs::create_directories(d / "host/usr/lib");
    fs::create_symlink("usr/lib", d / "host/lib");
    spit(d / "host/usr/lib/libz", "z");
    ImageBuilder b;
    std::string err;
    ASSERT_TRUE(b.add_host_path(d / "host/lib/libz", &err)) << err;
    // The destination goes through the image's /…/host/lib -> usr/lib link.
    ASSERT_TRUE(b.add_copy(d / "src", d / "host/lib/data", &err)) << err;
    std::string base = d.path().substr(1) + "/host/usr/lib/data";
    const auto& e = b.entries();
    ASSERT_TRUE(e.count(base)) << base;
    EXPECT_EQ(e.at(base).kind, ImageEntry::Kind::kDir);
    EXPECT_EQ(e.at(base + "/a").kind, ImageEntry::Kind::kFile);
    EXPECT_EQ(e.at(base + "/sub/b").kind, ImageEntry::Kind::kFile);
    EXPECT_EQ(e.at(base + "/link").kind, ImageEntry::Kind::kSymlink);
    EXPECT_EQ(e.at(base + "/link").target, "a");
    // A file copied onto a made-up parent.
    ASSERT_TRUE(b.add_copy(d / "src/a", "/new/dir/a", &err)) << err;
    EXPECT_EQ(e.at("new").kind, ImageEntry::Kind::kDir);
    EXPECT_EQ(e.at("new/dir/a").kind, ImageEntry::Kind::kFile);
    // A file onto a directory is refused.
    EXPECT_FALSE(b.add_copy(d / "src/a", "/new/dir", &err));
    EXPECT_NE(err.find("already a directory"), std::string::npos) << err;
    EXPECT_FALSE(b.add_copy(d / "nope", "/x", &err));
}

TEST(ImageBuilder, WritesAnArchiveTheCpioToolExtracts) {
    if (!have("cpio")) GTEST_SKIP() << "cpio not installed (scripts/setup installs it)";
    TempDir d;
    fs::create_directories(d / "src/sub");
    spit(d / "src/sub/b", "bee");
    ImageBuilder b;
    std::string err;
    ASSERT_TRUE(b.add_copy(d / "src", "/data", &err)) << err;
    std::string path = d / "img.cpio";
    int fd = open(path.c_str(), O_WRONLY | O_CREAT, 0600);
    ASSERT_TRUE(b.write(fd, &err)) << err;
    close(fd);
    fs::create_directories(d / "out");
    std::string cmd = "cd " + d.path() + "/out && cpio -id --quiet < " + path;
    ASSERT_EQ(system(cmd.c_str()), 0);
    EXPECT_EQ(slurp(d / "out/data/sub/b"), "bee");
}

// ---- dependency resolution -----------------------------------------------------

TEST(Deps, CheckProgram) {
    TempDir d;
    spit(d / "text", "hello");
    chmod((d / "text").c_str(), 0755);
    spit(d / "script", "#!/bin/sh\n");
    chmod((d / "script").c_str(), 0755);
    spit(d / "noexec", "x");
    chmod((d / "noexec").c_str(), 0644);
    EXPECT_NE(check_program(d / "text").find("not an ELF"), std::string::npos);
    EXPECT_NE(check_program(d / "script").find("script"), std::string::npos);
    EXPECT_NE(check_program(d.path()).find("directory"), std::string::npos);
    EXPECT_NE(check_program(d / "missing").find("not found"), std::string::npos);
    if (geteuid() != 0) {
        EXPECT_NE(check_program(d / "noexec").find("not executable"), std::string::npos);
    }
    EXPECT_EQ(check_program("/proc/self/exe"), "");
}

// This test binary is dynamic: its loader, libc and libstdc++ must be found
// as the host's ld.so finds them.
TEST(Deps, ResolvesThisTestBinaryLikeTheHost) {
    char self[4096];
    ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
    ASSERT_GT(n, 0);
    self[n] = '\0';
    Dependencies deps;
    std::string err;
    ASSERT_TRUE(resolve_dependencies(self, SearchRules(), &deps, &err)) << err;
    EXPECT_NE(deps.interp.find("ld-linux-x86-64.so.2"), std::string::npos);
    EXPECT_FALSE(deps.musl);
    EXPECT_TRUE(deps.missing.empty());
    bool libc = false, libstdcxx = false;
    for (const auto& l : deps.libraries) {
        libc |= l.find("/libc.so.6") != std::string::npos;
        libstdcxx |= l.find("/libstdc++.so.6") != std::string::npos;
        struct stat st;
        EXPECT_EQ(stat(l.c_str(), &st), 0) << l;
    }
    EXPECT_TRUE(libc);
    EXPECT_TRUE(libstdcxx);
}

// A program whose DT_NEEDED names a library nowhere: reported by name, with
// RUNPATH $ORIGIN honoured for one that sits next to it.
TEST(Deps, MissingLibrariesAreNamedAndOriginIsExpanded) {
    if (!have("gcc")) GTEST_SKIP() << "gcc not installed";
    TempDir d;
    spit(d / "lib.c", "int kiln_test_fn(void) { return 7; }\n");
    spit(d / "main.c", "int kiln_test_fn(void); int main(void) { return kiln_test_fn(); }\n");
    std::string cmd = "cd " + d.path() +
                      " && gcc -shared -fPIC -o libkilnfound.so lib.c"
                      " && cp libkilnfound.so libkilngone.so"
                      " && gcc -o prog main.c -L. -Wl,--no-as-needed -lkilnfound -lkilngone"
                      " -Wl,-rpath,'$ORIGIN' -Wl,--enable-new-dtags"
                      " && rm libkilngone.so";
    ASSERT_EQ(system(cmd.c_str()), 0);
    Dependencies deps;
    std::string err;
    ASSERT_TRUE(resolve_dependencies(d / "prog", SearchRules(), &deps, &err)) << err;
    ASSERT_EQ(deps.missing.size(), 1u);
    EXPECT_EQ(deps.missing[0], "libkilngone.so (needed by " + (d / "prog") + ")");
    bool found = false;
    for (const auto& l : deps.libraries) found |= l == d / "libkilnfound.so";
    EXPECT_TRUE(found);
}

TEST(Deps, MuslProgramNeedsOnlyItsLoader) {
    if (!have("musl-gcc")) GTEST_SKIP() << "musl-gcc not installed";
    TempDir d;
    spit(d / "m.c", "int main(void) { return 0; }\n");
    std::string cmd = "cd " + d.path() + " && musl-gcc -o m m.c";
    ASSERT_EQ(system(cmd.c_str()), 0);
    Dependencies deps;
    std::string err;
    ASSERT_TRUE(resolve_dependencies(d / "m", SearchRules(), &deps, &err)) << err;
    EXPECT_TRUE(deps.musl);
    EXPECT_NE(deps.interp.find("ld-musl-x86_64.so.1"), std::string::npos);
    EXPECT_TRUE(deps.missing.empty());
    EXPECT_TRUE(deps.libraries.empty());  // libc.so is the loader itself
}

TEST(Deps, StaticProgramNeedsNothing) {
    if (!have("musl-gcc")) GTEST_SKIP() << "musl-gcc not installed";
    TempDir d;
    spit(d / "m.c", "int main(void) { return 0; }\n");
    std::string cmd = "cd " + d.path() + " && musl-gcc -static -o m m.c";
    ASSERT_EQ(system(cmd.c_str()), 0);
    Dependencies deps;
    std::string err;
    ASSERT_TRUE(resolve_dependencies(d / "m", SearchRules(), &deps, &err)) << err;
    EXPECT_EQ(deps.interp, "");
    EXPECT_TRUE(deps.libraries.empty());
    EXPECT_TRUE(deps.config.empty());
}

}  // namespace
