// cpuloop-host: the CPU check's host side. Runs the same loop the kernel runs
// for "bench=cpuloop" -- 10^8 iterations of dec/jnz -- and prints the time in
// the kernel's format, so boot-bench parses both alike:
//   cpuloop: 100000000 iterations in N ns
//   cpuloop-tsc: N cycles
#include <time.h>
#include <x86intrin.h>

#include <cstdint>
#include <cstdio>

namespace {

constexpr uint64_t kIterations = 100'000'000;

int64_t now_ns() {
    timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return int64_t(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

}  // namespace

int main() {
    int64_t t0 = now_ns();
    uint64_t c0 = __rdtsc();
    // Exactly the guest's loop; the count is an immediate, as in the kernel.
    asm volatile(
        "mov $100000000, %%rcx\n"
        "1: dec %%rcx\n"
        "jnz 1b\n" ::
            : "rcx", "cc");
    uint64_t c1 = __rdtsc();
    int64_t t1 = now_ns();
    printf("cpuloop: %llu iterations in %lld ns\n", (unsigned long long)kIterations,
           (long long)(t1 - t0));
    printf("cpuloop-tsc: %llu cycles\n", (unsigned long long)(c1 - c0));
    return 0;
}
