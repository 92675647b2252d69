// Kernel command line parsing. The command line is Linux's: parameters
// separated by spaces, each `key` or `key=value`; a value (or the whole
// parameter) may be double-quoted to hold spaces, and the quotes are not part
// of the value. As in Linux, '-' and '_' are interchangeable in keys, a bare
// `--` ends the kernel's parameters (what follows belongs to the app), and
// when a key repeats the last occurrence wins.
//
// Devices are announced as Linux's virtio-mmio driver expects
// (drivers/virtio/virtio_mmio.c): virtio_mmio.device=<size>@<baseaddr>:<irq>[:<id>].
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "kiln/result.h"
#include "kiln/span.h"

namespace kiln {

// One parameter as written; spans point into the command line.
struct CmdlineParam {
    Span<const char> key;
    Span<const char> value;  // quotes stripped; empty when !has_value
    bool has_value;          // `key=...` (possibly `key=`), not bare `key`
};

// Walks the parameters in order, stopping at the end or at a bare `--`.
class CmdlineParams {
public:
    explicit CmdlineParams(const char* cmdline) : p_(cmdline != nullptr ? cmdline : "") {}
    // Fills *param with the next parameter; false when there are no more.
    bool next(CmdlineParam* param);

private:
    const char* p_;
};

// True when `a` and `b` name the same key ('-' and '_' compare equal).
bool cmdline_key_equal(Span<const char> a, const char* b);

// The value of the last `key=value` (a bare `key` does not count). *value
// points into cmdline and is not NUL-terminated.
bool cmdline_get(const char* cmdline, const char* key, Span<const char>* value);

// True when the last occurrence of key is bare `key` or `key=` with y, yes,
// 1, on or true; false when key is absent or its value is anything else.
bool cmdline_flag(const char* cmdline, const char* key);

// "4096", "0x1000", "64M", "1g": decimal or 0x-hex, with an optional binary
// suffix K, M, G, T, P or E (either case). EINVAL when malformed, ERANGE when
// the value does not fit in 64 bits.
Result<uint64_t> parse_size(Span<const char> text);

// Decimal or 0x-hex without suffix, same errors as parse_size.
Result<uint64_t> parse_u64(Span<const char> text);

struct VirtioMmioDevice {
    uint64_t base;  // guest-physical address of the register window
    uint64_t size;  // length of the window in bytes, > 0
    uint32_t irq;
    uint32_t id;  // platform device id; 0 unless has_id
    bool has_id;
};

// Parses the value of one virtio_mmio.device= parameter:
// <size>@<baseaddr>:<irq>[:<id>]. size and base take parse_size syntax,
// irq and id parse_u64 syntax. EINVAL when malformed or size is 0, ERANGE when
// a number is too large or base + size wraps.
Result<VirtioMmioDevice> parse_virtio_mmio(Span<const char> value);

// Walks every virtio_mmio.device= parameter in order:
//   for (VirtioMmioDevices it(cmdline); it.next();) {
//       auto dev = it.device();  // Result; log it.raw() when malformed
//   }
class VirtioMmioDevices {
public:
    explicit VirtioMmioDevices(const char* cmdline) : params_(cmdline) {}
    bool next();
    Span<const char> raw() const { return raw_; }
    Result<VirtioMmioDevice> device() const { return parse_virtio_mmio(raw_); }

private:
    CmdlineParams params_;
    Span<const char> raw_;
};

}  // namespace kiln
