// uname(2): struct new_utsname, six NUL-terminated fields of 65 bytes. nginx
// exits when uname fails, and programs print or parse these, so they look
// like a Linux system's: "Linux", the host name from `kiln.hostname=` (or
// "kiln"), a 6.1 release marked as kiln, "x86_64", domain "(none)".
#pragma once

#include <stddef.h>

namespace kiln::sys {

inline constexpr size_t kUtsFieldLen = 65;  // __NEW_UTS_LEN + 1
// sethostname(2): EINVAL beyond this.
inline constexpr size_t kHostNameMax = kUtsFieldLen - 1;

struct NewUtsname {
    char sysname[kUtsFieldLen];
    char nodename[kUtsFieldLen];
    char release[kUtsFieldLen];
    char version[kUtsFieldLen];
    char machine[kUtsFieldLen];
    char domainname[kUtsFieldLen];
};
static_assert(sizeof(NewUtsname) == 6 * 65);

inline constexpr char kUtsRelease[] = "6.1.0-kiln";

// Fills *u. hostname (hostname_len bytes, not NUL-terminated; may be null
// or empty for the default "kiln") is cut to 64 bytes. Every byte of *u is
// written, so the struct can go to the app without leaking kernel memory.
void fill_utsname(NewUtsname* u, const char* hostname, size_t hostname_len);

}  // namespace kiln::sys
