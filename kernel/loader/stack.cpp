// Initial stack layout; see stack.h. From the top down (Linux's order):
// an 8-byte end marker, the AT_EXECFN string, the environment strings, the
// argument strings, the AT_PLATFORM string, AT_RANDOM's 16 bytes, padding
// so that rsp ends 16-byte aligned, then the pointer block: argc, argv[],
// NULL, envp[], NULL, auxv pairs, AT_NULL.
#include "loader/stack.h"

#include <linux/auxvec.h>

namespace kiln::loader {
namespace {

size_t length(const char* s) {
    size_t n = 0;
    while (s[n] != '\0') ++n;
    return n;
}

uint64_t align_down(uint64_t v, uint64_t a) { return v & ~(a - 1); }

// The bytes of the string area (strings and random bytes, 16-aligned at
// its bottom) and of the pointer block; false past the limit.
struct Sizes {
    size_t strings;
    size_t pointers;
};

bool add_string(size_t* total, const char* s) {
    size_t n = length(s) + 1;
    if (n > kMaxStackImage || *total > kMaxStackImage - n) return false;
    *total += n;
    return true;
}

Result<Sizes> sizes(const StackSpec& spec) {
    if ((spec.argc && !spec.argv) || (spec.envc && !spec.envp) || (spec.auxc && !spec.aux)) {
        return Error(Errno::kEINVAL);
    }
    size_t s = 8;  // end marker
    if (spec.execfn && !add_string(&s, spec.execfn)) return Error(Errno::kE2BIG);
    for (size_t i = 0; i < spec.envc; ++i) {
        if (!add_string(&s, spec.envp[i])) return Error(Errno::kE2BIG);
    }
    for (size_t i = 0; i < spec.argc; ++i) {
        if (!add_string(&s, spec.argv[i])) return Error(Errno::kE2BIG);
    }
    if (spec.platform && !add_string(&s, spec.platform)) return Error(Errno::kE2BIG);
    s = (s + 16 + 15) & ~size_t{15};  // AT_RANDOM's bytes, 16-aligned below the strings
    // argc, argv + NULL, envp + NULL; aux pairs + AT_RANDOM, AT_EXECFN,
    // AT_PLATFORM, AT_NULL.
    if (spec.argc > kMaxStackImage / 8 || spec.envc > kMaxStackImage / 8 ||
        spec.auxc > kMaxStackImage / 16) {
        return Error(Errno::kE2BIG);
    }
    size_t p = 8 * (1 + spec.argc + 1 + spec.envc + 1) + 16 * (spec.auxc + 4);
    p = (p + 15) & ~size_t{15};
    if (s + p > kMaxStackImage) return Error(Errno::kE2BIG);
    return Sizes{s, p};
}

// Writes downwards from the top of buf, tracking the matching user address.
class Writer {
public:
    Writer(uint64_t top, uint8_t* buf, size_t size) : top_(top), buf_(buf), size_(size), off_(size) {}
    uint64_t addr() const { return top_ - (size_ - off_); }
    // Copies n bytes below the current position; returns their address.
    uint64_t push(const void* p, size_t n) {
        off_ -= n;
        const uint8_t* src = static_cast<const uint8_t*>(p);
        for (size_t i = 0; i < n; ++i) buf_[off_ + i] = src[i];
        return addr();
    }
    uint64_t push_string(const char* s) { return push(s, length(s) + 1); }
    void align(uint64_t a) {  // pads with zeroes down to a multiple of a
        uint64_t to = align_down(addr(), a);
        while (addr() > to) buf_[--off_] = 0;
    }
    uint8_t* at(uint64_t user_addr) { return buf_ + (size_ - (top_ - user_addr)); }

private:
    uint64_t top_;
    uint8_t* buf_;
    size_t size_;
    size_t off_;
};

void put64(uint8_t* p, uint64_t v) {
    for (int i = 0; i < 8; ++i) p[i] = static_cast<uint8_t>(v >> (8 * i));
}

}  // namespace

Result<size_t> stack_size(const StackSpec& spec) {
    Sizes s = TRY(sizes(spec));
    return s.strings + s.pointers;
}

Result<StackLayout> layout_stack(const StackSpec& spec, uint64_t top, uint8_t* buf, size_t size) {
    Sizes s = TRY(sizes(spec));
    if (top % 16 != 0 || size < s.strings + s.pointers || top < size) return Error(Errno::kEINVAL);
    Writer w(top, buf, size);
    const uint64_t zero = 0;
    w.push(&zero, 8);
    uint64_t execfn = spec.execfn ? w.push_string(spec.execfn) : 0;
    // Strings are pushed last-first so that each list reads upwards in order.
    for (size_t i = spec.envc; i-- > 0;) w.push_string(spec.envp[i]);
    const uint64_t env_base = w.addr();
    for (size_t i = spec.argc; i-- > 0;) w.push_string(spec.argv[i]);
    const uint64_t arg_base = w.addr();
    uint64_t platform = spec.platform ? w.push_string(spec.platform) : 0;
    w.align(16);
    uint64_t random = w.push(spec.random, 16);

    // The pointer block, written upwards from rsp.
    // The random bytes sit 16-aligned and s.pointers is a multiple of 16.
    const uint64_t rsp = w.addr() - s.pointers;
    uint8_t* p = w.at(rsp);
    // What the vector does not use (AT_PLATFORM absent, say) stays zero.
    for (uint8_t* q = p; q < w.at(w.addr()); ++q) *q = 0;
    put64(p, spec.argc);
    p += 8;
    uint64_t a = arg_base;
    for (size_t i = 0; i < spec.argc; ++i, p += 8) {
        put64(p, a);
        a += length(spec.argv[i]) + 1;
    }
    put64(p, 0);
    p += 8;
    a = env_base;
    for (size_t i = 0; i < spec.envc; ++i, p += 8) {
        put64(p, a);
        a += length(spec.envp[i]) + 1;
    }
    put64(p, 0);
    p += 8;
    auto aux = [&p](uint64_t type, uint64_t value) {
        put64(p, type);
        put64(p + 8, value);
        p += 16;
    };
    for (size_t i = 0; i < spec.auxc; ++i) aux(spec.aux[i].type, spec.aux[i].value);
    aux(AT_RANDOM, random);
    if (execfn) aux(AT_EXECFN, execfn);
    if (platform) aux(AT_PLATFORM, platform);
    aux(AT_NULL, 0);
    return StackLayout{rsp, static_cast<size_t>(top - rsp)};
}

Result<size_t> split_strings(char* buf, size_t n, size_t cap, const char** out, size_t max) {
    if (n == 0) return size_t{0};
    if (buf[n - 1] != '\0') {
        if (cap <= n) return Error(Errno::kE2BIG);
        buf[n++] = '\0';
    }
    size_t count = 0;
    for (size_t i = 0; i < n;) {
        if (count < max) out[count] = buf + i;
        ++count;
        while (buf[i] != '\0') ++i;
        ++i;
    }
    return count;
}

}  // namespace kiln::loader
