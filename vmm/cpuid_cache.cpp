#include "cpuid_cache.h"

#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

namespace kiln::vmm {
namespace {

constexpr char kMagic[8] = {'K', 'I', 'L', 'N', 'C', 'P', 'U', '1'};

struct Key {
    char magic[8];
    char boot_id[40];  // /proc/sys/kernel/random/boot_id
    unsigned long long kvm_rdev, kvm_ino;
    unsigned long long size;
};

bool read_all(int fd, void* buf, size_t n) {
    char* p = static_cast<char*>(buf);
    while (n > 0) {
        ssize_t r = read(fd, p, n);
        if (r <= 0) return false;
        p += r;
        n -= size_t(r);
    }
    return true;
}

bool make_key(int kvm_fd, size_t size, Key* key) {
    memset(key, 0, sizeof(*key));
    memcpy(key->magic, kMagic, sizeof(kMagic));
    int fd = open("/proc/sys/kernel/random/boot_id", O_RDONLY | O_CLOEXEC);
    if (fd < 0) return false;
    ssize_t n = read(fd, key->boot_id, sizeof(key->boot_id) - 1);
    close(fd);
    if (n < 32) return false;
    struct stat st;
    if (fstat(kvm_fd, &st) != 0) return false;
    key->kvm_rdev = st.st_rdev;
    key->kvm_ino = st.st_ino;
    key->size = size;
    return true;
}

// $XDG_CACHE_HOME/kiln or ~/.cache/kiln; "" when neither is set.
bool cache_path(char* out, size_t cap, bool create) {
    const char* xdg = getenv("XDG_CACHE_HOME");
    const char* home = getenv("HOME");
    char dir[512];
    if (xdg && *xdg == '/') {
        snprintf(dir, sizeof(dir), "%s/kiln", xdg);
    } else if (home && *home == '/') {
        snprintf(dir, sizeof(dir), "%s/.cache/kiln", home);
    } else {
        return false;
    }
    if (create) {
        char parent[512];
        snprintf(parent, sizeof(parent), "%s", dir);
        char* slash = strrchr(parent, '/');
        if (slash && slash != parent) {
            *slash = 0;
            mkdir(parent, 0700);
        }
        mkdir(dir, 0700);
    }
    return snprintf(out, cap, "%s/cpuid", dir) < int(cap);
}

bool disabled() {
    const char* v = getenv("KILN_NO_CPUID_CACHE");
    return v && *v && strcmp(v, "0") != 0;
}

}  // namespace

bool load_cached_cpuid(int kvm_fd, void* buf, size_t size) {
    char path[600];
    Key want, have;
    if (disabled() || !cache_path(path, sizeof(path), false) || !make_key(kvm_fd, size, &want)) {
        return false;
    }
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0) return false;
    struct stat st;
    // Only a regular file of ours, of exactly the expected size.
    bool ok = fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_uid == geteuid() &&
              uint64_t(st.st_size) == sizeof(Key) + size && read_all(fd, &have, sizeof(have)) &&
              memcmp(&have, &want, sizeof(Key)) == 0 && read_all(fd, buf, size);
    close(fd);
    return ok;
}

void store_cached_cpuid(int kvm_fd, const void* buf, size_t size) {
    char path[600], tmp[640];
    Key key;
    if (disabled() || !cache_path(path, sizeof(path), true) || !make_key(kvm_fd, size, &key)) return;
    snprintf(tmp, sizeof(tmp), "%s.%d", path, int(getpid()));
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0) return;
    bool ok = write(fd, &key, sizeof(key)) == ssize_t(sizeof(key)) &&
              write(fd, buf, size) == ssize_t(size);
    close(fd);
    if (!ok || rename(tmp, path) != 0) unlink(tmp);
}

}  // namespace kiln::vmm
