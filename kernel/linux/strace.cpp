// `kiln.strace`: each call with its decoded arguments and its result, on
// the kernel log, in strace's familiar shape: read(3, 0x7ffd..., 4096) = 12.
#include "kiln/format.h"
#include "klog.h"
#include "linux/syscall.h"
#include "linux/user.h"

namespace kiln::sys {

extern const char* const kSyscallNames[];
extern const size_t kSyscallNameCount;

namespace {

constexpr int64_t kAtFdcwd = -100;

struct Line {
    char buf[512];
    size_t len = 0;
    void add(const char* fmt, ...) __attribute__((format(printf, 2, 3))) {
        if (len >= sizeof(buf)) return;
        va_list ap;
        va_start(ap, fmt);
        len += vformat(buf + len, sizeof(buf) - len, fmt, ap);
        va_end(ap);
        if (len > sizeof(buf) - 1) len = sizeof(buf) - 1;
    }
};

struct FlagName {
    uint64_t bit;
    const char* name;
};

void add_flags(Line& l, uint64_t v, const FlagName* names, size_t n, const char* zero) {
    if (v == 0) {
        l.add("%s", zero);
        return;
    }
    bool first = true;
    for (size_t i = 0; i < n; i++) {
        if (names[i].bit && (v & names[i].bit) == names[i].bit) {
            l.add("%s%s", first ? "" : "|", names[i].name);
            v &= ~names[i].bit;
            first = false;
        }
    }
    if (v) l.add("%s0x%lx", first ? "" : "|", v);
}

const FlagName kOpenFlags[] = {
    {01, "O_WRONLY"},        {02, "O_RDWR"},        {0100, "O_CREAT"},     {0200, "O_EXCL"},
    {01000, "O_TRUNC"},      {02000, "O_APPEND"},   {04000, "O_NONBLOCK"}, {0200000, "O_DIRECTORY"},
    {0400000, "O_NOFOLLOW"}, {02000000, "O_CLOEXEC"}, {010000000, "O_PATH"}};
const FlagName kProt[] = {{1, "PROT_READ"}, {2, "PROT_WRITE"}, {4, "PROT_EXEC"}};
const FlagName kMapFlags[] = {{1, "MAP_SHARED"},       {2, "MAP_PRIVATE"},  {0x10, "MAP_FIXED"},
                              {0x20, "MAP_ANONYMOUS"}, {0x4000, "MAP_NORESERVE"},
                              {0x100000, "MAP_FIXED_NOREPLACE"}, {0x20000, "MAP_STACK"}};

void add_string(Line& l, uint64_t addr) {
    char s[64];
    auto r = copy_string_from_user(s, addr, sizeof(s));
    if (r.ok()) {
        l.add("\"%s\"", s);
    } else if (r.error() == Errno::kENAMETOOLONG) {
        s[sizeof(s) - 1] = 0;
        l.add("\"%s\"...", s);
    } else {
        l.add("0x%lx", addr);
    }
}

void add_buffer(Line& l, uint64_t addr, uint64_t len) {
    char s[32];
    size_t n = len < sizeof(s) ? len : sizeof(s);
    if (!copy_from_user(s, addr, n).ok()) {
        l.add("0x%lx", addr);
        return;
    }
    l.add("\"");
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (c == '\n') l.add("\\n");
        else if (c >= 32 && c < 127 && c != '"' && c != '\\') l.add("%c", c);
        else l.add("\\x%02x", uint8_t(c));
    }
    l.add("\"%s", len > n ? "..." : "");
}

const char* name_of(const SyscallDef* def, uint64_t nr) {
    if (def) return def->name;
    if (nr < kSyscallNameCount && kSyscallNames[nr]) return kSyscallNames[nr];
    return "syscall_unknown";
}

// Arguments are printed at entry (input buffers are still what the app
// passed); the result at exit on the same line.
Line pending;

}  // namespace

const char* syscall_any_name(uint64_t nr) {
    return nr < kSyscallNameCount && kSyscallNames[nr] ? kSyscallNames[nr] : nullptr;
}

void strace_enter(const SyscallDef* def, uint64_t nr, const SyscallArgs& a) {
    Line& l = pending;
    l.len = 0;
    l.add("%s(", name_of(def, nr));
    for (int i = 0; i < 6 && def->args[i] != Arg::kNone; i++) {
        if (i) l.add(", ");
        const uint64_t v = a.arg[i];
        switch (def->args[i]) {
            case Arg::kInt: l.add("%ld", int64_t(v)); break;
            case Arg::kUInt: l.add("%lu", v); break;
            case Arg::kHex: l.add("0x%lx", v); break;
            case Arg::kPtr: v ? l.add("0x%lx", v) : l.add("NULL"); break;
            case Arg::kFd: int32_t(v) == kAtFdcwd ? l.add("AT_FDCWD") : l.add("%d", int32_t(v)); break;
            case Arg::kPath: add_string(l, v); break;
            case Arg::kBuf: add_buffer(l, v, i < 5 ? a.arg[i + 1] : 0); break;
            case Arg::kOpenFlags: add_flags(l, v, kOpenFlags, 11, "O_RDONLY"); break;
            case Arg::kProt: add_flags(l, v, kProt, 3, "PROT_NONE"); break;
            case Arg::kMapFlags: add_flags(l, v, kMapFlags, 7, "0"); break;
            case Arg::kNone: break;
        }
    }
}

void strace_exit(const SyscallDef* def, uint64_t nr, int64_t result) {
    Line& l = def ? pending : (pending.len = 0, pending);
    if (!def) l.add("%s(", name_of(def, nr));
    if (result < 0 && result >= -4095) {
        l.add(") = -1 %s", errno_name(Errno(-result)));
    } else if (result > 0xffff) {
        l.add(") = 0x%lx", uint64_t(result));
    } else {
        l.add(") = %ld", result);
    }
    klog::error("%.*s", int(l.len), l.buf);
}

}  // namespace kiln::sys
