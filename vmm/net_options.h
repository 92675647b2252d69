// The networking options shared by kiln-vmm and `kiln run` (which checks
// them before packing an image, and passes them on unchanged):
//   --net none | user | tap:NAME
//   --mac XX:XX:XX:XX:XX:XX
//   -p, --publish [IP:]HOSTPORT:GUESTPORT[/tcp|/udp]   (--net user only)
// Plain C++ without allocation, so the monitor can use it too. Each parser
// returns false with a sentence in err (NUL-terminated, truncated to
// err_len) that names the bad value and says what would be right.
#pragma once

#include <stddef.h>
#include <stdint.h>

namespace kiln::vmm {

enum class NetMode { kNone, kUser, kTap };

inline constexpr size_t kTapNameMax = 15;  // IFNAMSIZ - 1
inline constexpr int kMaxPublish = 32;

struct PortForward {
    bool udp = false;
    uint8_t host_addr[4] = {127, 0, 0, 1};  // where the host listens
    uint16_t host_port = 0;
    uint16_t guest_port = 0;
};

struct NetOptions {
    NetMode mode = NetMode::kNone;
    char tap_name[kTapNameMax + 1] = {};
    bool mac_given = false;
    uint8_t mac[6] = {0x52, 0x54, 0x00, 0x12, 0x34, 0x56};  // locally administered
    PortForward publish[kMaxPublish];
    int publish_count = 0;
};

// "none", "user" or "tap:NAME".
bool parse_net_mode(const char* text, NetOptions* out, char* err, size_t err_len);
// Six hex pairs separated by ':' (or '-'); a unicast address.
bool parse_mac(const char* text, uint8_t mac[6], char* err, size_t err_len);
// One -p value.
bool parse_publish(const char* text, PortForward* out, char* err, size_t err_len);
// Adds a -p value to out (at most kMaxPublish, no host port twice).
bool add_publish(const char* text, NetOptions* out, char* err, size_t err_len);
// `kiln run --ip ADDR/PREFIX[,GATEWAY[,DNS]]`: a static IPv4 configuration,
// given to the kernel as kiln.ip=... (kernel/net/service.h).
bool check_static_ip(const char* text, char* err, size_t err_len);
// `kiln run --ip6 ADDR/PREFIX[,GATEWAY]`: a static IPv6 configuration,
// given to the kernel as kiln.ip6=... (kernel/net/service.h).
bool check_static_ip6(const char* text, char* err, size_t err_len);
// The checks across options: -p only with --net user, --mac not with none.
bool check_net_options(const NetOptions& o, char* err, size_t err_len);

}  // namespace kiln::vmm
