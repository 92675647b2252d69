// The built-in jobs the kernel runs until applications can be loaded: the
// hello example, the in-guest CPU benchmark, self-tests and deliberate
// crashes for the crash-report tests.
#include "abi/boot.h"
#include "arch/x86_64/arch.h"
#include "dev/console.h"
#include "kernel.h"
#include "kiln/cmdline.h"
#include "kiln/format.h"
#include "klog.h"

namespace kiln {
namespace {

void out(const char* fmt, ...) __attribute__((format(printf, 1, 2)));
void out(const char* fmt, ...) {
    char buf[256];
    va_list ap;
    va_start(ap, fmt);
    size_t n = vformat(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    dev::console_write(buf, n < sizeof(buf) ? n : sizeof(buf) - 1);
}

// Deliberate faults for the crash-report tests; noinline so the report
// names these functions.
[[gnu::noinline]] void crash_null_write() {
    volatile uint64_t* p = nullptr;
    asm volatile("" : "+r"(p));  // hide the null from the optimiser
    *p = 0xdead;
}
[[gnu::noinline]] void crash_invalid_opcode() { asm volatile("ud2"); }

}  // namespace

[[noreturn]] void run_builtin_job(const char* cmdline) {
    Span<const char> v;
    if (cmdline_get(cmdline, "crash", &v)) {
        if (cmdline_key_equal(v, "pagefault")) crash_null_write();
        if (cmdline_key_equal(v, "ud")) crash_invalid_opcode();
        klog::error("kiln: unknown crash=%.*s (pagefault, ud)", int(v.size()), v.data());
        arch::shutdown(2);
    }
    if (cmdline_get(cmdline, "exit", &v)) {
        auto status = parse_u64(v);
        arch::shutdown(status.ok() ? int(*status & 0xff) : 2);
    }
    out("Hello from the kiln kernel!\n");
    arch::shutdown(0);
}

}  // namespace kiln
