#include "linux/utsname.h"

namespace kiln::sys {
namespace {

void put(char (&field)[kUtsFieldLen], const char* s, size_t n) {
    if (n > kUtsFieldLen - 1) n = kUtsFieldLen - 1;
    size_t i = 0;
    for (; i < n && s[i] != '\0'; i++) field[i] = s[i];
    for (; i < kUtsFieldLen; i++) field[i] = '\0';
}

void put(char (&field)[kUtsFieldLen], const char* s) {
    put(field, s, kUtsFieldLen - 1);
}

}  // namespace

void fill_utsname(NewUtsname* u, const char* hostname, size_t hostname_len) {
    put(u->sysname, "Linux");
    if (hostname == nullptr || hostname_len == 0) {
        put(u->nodename, "kiln");
    } else {
        put(u->nodename, hostname, hostname_len);
    }
    put(u->release, kUtsRelease);
    // Shaped like Linux's UTS_VERSION ("#1 SMP ..."), which some programs print.
    put(u->version, "#1 SMP kiln");
    put(u->machine, "x86_64");
    put(u->domainname, "(none)");
}

}  // namespace kiln::sys
