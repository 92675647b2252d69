// Fuzz target for lib/kiln/cmdline.h: the kernel command line (which a user
// writes and kiln-vmm hands to the guest), its virtio_mmio.device= entries
// and the number parsers behind them. The input up to its first NUL is the
// command line; the whole input is also fed to parse_size/parse_u64 as text.
//
// Besides reading every returned range and checking it lies inside the
// command line, the numbers are checked against a slow reference written from
// the header's documentation with 128-bit arithmetic.
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_check.h"
#include "kiln/cmdline.h"

using namespace kiln;
using kiln::fuzz::touch;
using kiln::fuzz::within;

namespace {

using u128 = unsigned __int128;

int ref_digit(char c, unsigned base) {
    int d = -1;
    if (c >= '0' && c <= '9') d = c - '0';
    if (c >= 'a' && c <= 'f') d = c - 'a' + 10;
    if (c >= 'A' && c <= 'F') d = c - 'A' + 10;
    return d >= 0 && static_cast<unsigned>(d) < base ? d : -1;
}

// The reference parse_size (with_suffix) / parse_u64: true with *out when
// valid and in range. Which error a bad input gets is not compared.
bool ref_parse(Span<const char> t, bool with_suffix, uint64_t* out) {
    size_t i = 0;
    unsigned base = 10;
    if (t.size() >= 2 && t[0] == '0' && (t[1] == 'x' || t[1] == 'X')) {
        base = 16;
        i = 2;
    }
    size_t first = i;
    u128 v = 0;
    bool too_big = false;
    for (; i < t.size() && ref_digit(t[i], base) >= 0; ++i) {
        v = v * base + static_cast<unsigned>(ref_digit(t[i], base));
        if (v > UINT64_MAX) too_big = true, v = u128(UINT64_MAX) + 1;  // stay saturated
    }
    if (i == first) return false;
    if (i < t.size()) {
        if (!with_suffix || i + 1 != t.size()) return false;
        const char* suffixes = "kmgtpe";
        const char* s = strchr(suffixes, t[i] | 0x20);
        if (t[i] == '\0' || s == nullptr) return false;
        v <<= 10 * (s - suffixes + 1);
        if (v > UINT64_MAX) too_big = true;
    }
    if (too_big) return false;
    *out = static_cast<uint64_t>(v);
    return true;
}

void check_number(Span<const char> text) {
    uint64_t want = 0;
    auto size = parse_size(text);
    bool ok = ref_parse(text, true, &want);
    FUZZ_CHECK(size.ok() == ok);
    if (ok) FUZZ_CHECK(*size == want);
    if (!size.ok()) FUZZ_CHECK(size.error() == Errno::kEINVAL || size.error() == Errno::kERANGE);

    auto u = parse_u64(text);
    ok = ref_parse(text, false, &want);
    FUZZ_CHECK(u.ok() == ok);
    if (ok) FUZZ_CHECK(*u == want);
    if (!u.ok()) FUZZ_CHECK(u.error() == Errno::kEINVAL || u.error() == Errno::kERANGE);
}

// Splits at the first `sep`, as the device syntax reads.
bool ref_split(Span<const char> t, char sep, Span<const char>* head, Span<const char>* tail) {
    for (size_t i = 0; i < t.size(); ++i) {
        if (t[i] != sep) continue;
        *head = Span<const char>(t.data(), i);
        *tail = Span<const char>(t.data() + i + 1, t.size() - i - 1);
        return true;
    }
    return false;
}

// <size>@<base>:<irq>[:<id>], size > 0, base + size <= 2^64.
void check_device(Span<const char> raw) {
    auto dev = parse_virtio_mmio(raw);
    bool ok = true;
    uint64_t size = 0, base = 0, irq = 0, id = 0;
    Span<const char> size_t_, rest, base_t, irq_t, id_t;
    ok = ref_split(raw, '@', &size_t_, &rest) && ref_split(rest, ':', &base_t, &irq_t);
    bool has_id = ok && ref_split(irq_t, ':', &irq_t, &id_t);
    ok = ok && ref_parse(size_t_, true, &size) && ref_parse(base_t, true, &base) &&
         ref_parse(irq_t, false, &irq) && irq <= UINT32_MAX;
    if (ok && has_id) ok = ref_parse(id_t, false, &id) && id <= UINT32_MAX;
    ok = ok && size > 0 && u128(base) + size <= u128(UINT64_MAX) + 1;

    FUZZ_CHECK(dev.ok() == ok);
    if (!ok) {
        FUZZ_CHECK(dev.error() == Errno::kEINVAL || dev.error() == Errno::kERANGE);
        return;
    }
    FUZZ_CHECK(dev->size == size && dev->base == base && dev->irq == irq);
    FUZZ_CHECK(dev->has_id == has_id && dev->id == (has_id ? id : 0));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    // The whole input as number text (NULs and all: the span has a length).
    check_number(Span<const char>(reinterpret_cast<const char*>(data), size));

    // The command line: a NUL-terminated copy of exactly the right size, so
    // ASan catches a read past the terminator.
    size_t len = strnlen(reinterpret_cast<const char*>(data), size);
    char* line = static_cast<char*>(malloc(len + 1));
    if (line == nullptr) return 0;
    memcpy(line, data, len);
    line[len] = '\0';

    CmdlineParams params(line);
    CmdlineParam p;
    size_t count = 0;
    const char* prev_end = line;
    while (params.next(&p)) {
        // Every parameter takes at least one character, and they come in order.
        FUZZ_CHECK(++count <= len);
        FUZZ_CHECK(!p.key.empty());
        FUZZ_CHECK(within(p.key.data(), p.key.size(), line, len));
        FUZZ_CHECK(p.key.data() >= prev_end);
        for (char c : p.key) FUZZ_CHECK(c != '\0' && c != '=');
        if (p.has_value) {
            FUZZ_CHECK(within(p.value.data(), p.value.size(), line, len));
            FUZZ_CHECK(p.value.data() >= p.key.data() + p.key.size());
            for (char c : p.value) FUZZ_CHECK(c != '\0');
            touch(p.value.data(), p.value.size());
            prev_end = p.value.data() + p.value.size();
            check_number(p.value);
        } else {
            FUZZ_CHECK(p.value.empty());
            prev_end = p.key.data() + p.key.size();
        }
        touch(p.key.data(), p.key.size());

        // cmdline_get must find this key, and (it being the last so far with
        // a value, if it has one) nothing before it can be the answer.
        // (Each lookup rescans the line: only the first keys, to stay linear.)
        char key[32];
        bool plain_key = p.key.size() < sizeof(key) && count <= 16;
        if (plain_key) {
            memcpy(key, p.key.data(), p.key.size());
            key[p.key.size()] = '\0';
            FUZZ_CHECK(cmdline_key_equal(p.key, key));
            Span<const char> value;
            bool found = cmdline_get(line, key, &value);
            if (p.has_value) FUZZ_CHECK(found);
            if (found) FUZZ_CHECK(within(value.data(), value.size(), line, len));
            if (found) touch(value.data(), value.size());
            (void)cmdline_flag(line, key);
        }
    }

    size_t devices = 0;
    for (VirtioMmioDevices it(line); it.next();) {
        FUZZ_CHECK(++devices <= len);
        FUZZ_CHECK(within(it.raw().data(), it.raw().size(), line, len));
        touch(it.raw().data(), it.raw().size());
        check_device(it.raw());
    }
    (void)cmdline_flag(line, "quiet");
    Span<const char> v;
    if (cmdline_get(line, "virtio-mmio.device", &v)) touch(v.data(), v.size());

    free(line);
    return 0;
}
