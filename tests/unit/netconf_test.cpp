// kernel/net/netconf: the kernel command line's kiln.ip= and kiln.ip6=
// (IPv4 dotted quads, RFC 4291 §2.2 IPv6 text) and resolv.conf.
#include "net/netconf.h"

#include <gtest/gtest.h>
#include <string.h>

using namespace kiln;
using namespace kiln::net;

namespace {

Span<const char> s(const char* t) {
    return Span<const char>(t, strlen(t));
}

TEST(NetConf, Ipv4) {
    uint8_t a[4];
    ASSERT_TRUE(parse_ipv4(s("10.0.2.15"), a));
    EXPECT_EQ(a[0], 10);
    EXPECT_EQ(a[3], 15);
    for (const char* bad : {"", "1.2.3", "1.2.3.4.5", "1.2.3.256", "1.2.3.4.", ".1.2.3", "a.b.c.d",
                            "1..2.3", "1.2.3.1234", "1.2.3.-1"})
        EXPECT_FALSE(parse_ipv4(s(bad), a)) << bad;
}

TEST(NetConf, Ipv6) {
    uint8_t a[16];
    ASSERT_TRUE(parse_ipv6(s("fd00::15"), a));
    EXPECT_EQ(a[0], 0xfd);
    EXPECT_EQ(a[1], 0x00);
    EXPECT_EQ(a[15], 0x15);
    EXPECT_EQ(a[14], 0);
    ASSERT_TRUE(parse_ipv6(s("::"), a));
    for (uint8_t b : a) EXPECT_EQ(b, 0);
    ASSERT_TRUE(parse_ipv6(s("::1"), a));
    EXPECT_EQ(a[15], 1);
    ASSERT_TRUE(parse_ipv6(s("1:2:3:4:5:6:7:8"), a));
    EXPECT_EQ(a[14], 0);
    EXPECT_EQ(a[15], 8);
    ASSERT_TRUE(parse_ipv6(s("::ffff:10.0.0.1"), a));
    EXPECT_EQ(a[10], 0xff);
    EXPECT_EQ(a[12], 10);
    EXPECT_EQ(a[15], 1);
    ASSERT_TRUE(parse_ipv6(s("2001:db8::"), a));
    EXPECT_EQ(a[1], 0x01);
    EXPECT_EQ(a[3], 0xb8);
    for (const char* bad : {"", ":", ":1", "1:", "1::2::3", "1:2:3:4:5:6:7:8:9",
                            "12345::", "g::", "1:2:3:4:5:6:7", "::1.2.3", "1:2:3:4:5:6:7:1.2.3.4"})
        EXPECT_FALSE(parse_ipv6(s(bad), a)) << bad;
}

TEST(NetConf, Ipv4ConfigLines) {
    auto c = parse_ipv4_config(s("10.0.2.15/24,10.0.2.2,10.0.2.3"));
    ASSERT_TRUE(c.ok());
    EXPECT_EQ(c->prefix_len, 24);
    EXPECT_EQ(c->gateway[3], 2);
    EXPECT_EQ(c->dns[3], 3);
    auto d = parse_ipv4_config(s("192.0.2.1/32"));
    ASSERT_TRUE(d.ok());
    EXPECT_EQ(d->gateway[0], 0);
    for (const char* bad : {"10.0.2.15", "10.0.2.15/33", "10.0.2.15/24,", "10.0.2.15/24,x",
                            "10.0.2.15/24,1.1.1.1,2.2.2.2,3"})
        EXPECT_FALSE(parse_ipv4_config(s(bad)).ok()) << bad;
    char buf[64];
    size_t n = format_resolv_conf(c->dns, buf, sizeof buf);
    EXPECT_EQ(std::string(buf, n), "nameserver 10.0.2.3\n");
}

TEST(NetConf, Ipv6ConfigLines) {
    auto c = parse_ipv6_config(s("fd00::15/64,fd00::1"));
    ASSERT_TRUE(c.ok());
    EXPECT_EQ(c->prefix_len, 64);
    EXPECT_EQ(c->gateway[15], 1);
    EXPECT_FALSE(parse_ipv6_config(s("fd00::15/129")).ok());
    EXPECT_FALSE(parse_ipv6_config(s("fd00::15")).ok());
}

}  // namespace
