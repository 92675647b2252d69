// The initial process stack of the System V x86-64 psABI (§3.4.1 "Initial
// Stack and Register State", Figure 3.9): argc at rsp, then argv[] and a
// NULL, envp[] and a NULL, the auxiliary vector ending in AT_NULL, and above
// them the strings and AT_RANDOM's bytes. A pure function over a buffer, so
// the layout is unit-tested on the host; the loader copies the buffer to the
// top of the app's stack.
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "kiln/result.h"

namespace kiln::loader {

struct AuxEntry {
    uint64_t type;
    uint64_t value;
};

// What goes on the stack. The aux entries are the ones with plain values;
// layout_stack adds AT_RANDOM, AT_EXECFN, AT_PLATFORM (when platform is
// set) and AT_NULL, whose values are addresses of what it lays out.
struct StackSpec {
    const char* const* argv = nullptr;
    size_t argc = 0;
    const char* const* envp = nullptr;
    size_t envc = 0;
    const char* execfn = nullptr;    // AT_EXECFN: the path that was executed
    const char* platform = nullptr;  // AT_PLATFORM, e.g. "x86_64"; may be null
    uint8_t random[16] = {};         // AT_RANDOM's bytes
    const AuxEntry* aux = nullptr;
    size_t auxc = 0;
};

// Limit on the whole block (Linux allows a quarter of RLIMIT_STACK; 2 MiB
// is its historical ARG_MAX floor). E2BIG beyond it.
inline constexpr size_t kMaxStackImage = 2 * 1024 * 1024;

struct StackLayout {
    uint64_t rsp;    // user address of argc, 16-byte aligned
    size_t used;     // bytes from rsp up to the top
};

// The bytes the layout needs below `top` (a 16-byte aligned address),
// including alignment padding; E2BIG over kMaxStackImage.
Result<size_t> stack_size(const StackSpec& spec);

// Lays the stack out into buf, which stands for the user range
// [top - size, top): writes the block into buf's last `used` bytes.
// `size` must be at least stack_size(spec); EINVAL otherwise or when top
// is not 16-byte aligned.
Result<StackLayout> layout_stack(const StackSpec& spec, uint64_t top, uint8_t* buf, size_t size);

// Splits `n` bytes of NUL-separated strings (as in /.kiln/argv) in place:
// stores up to `max` pointers into out and returns how many strings there
// are. A missing final NUL is supplied when buf has room for it (cap > n);
// an empty input has no strings.
Result<size_t> split_strings(char* buf, size_t n, size_t cap, const char** out, size_t max);

}  // namespace kiln::loader
