#include "linux/clocks.h"

namespace kiln::sys {
namespace {

enum class Source { kMonotonic, kRealtime, kProcessCpu, kThreadCpu };

struct ClockKind {
    Source source;
    bool can_sleep;
};

// Negative ids are CPU clocks of a pid or tid (include/linux/posix-timers.h):
// id = (~pid << 3) | (per-thread ? 4 : 0) | which, which 0..2 (PROF, VIRT,
// SCHED); which 3 marks a dynamic (fd-based) clock.
Result<ClockKind> cpu_clock_kind(int32_t id, ClockOwner self) {
    const int32_t which = id & 3;
    if (which == 3) return Error(Errno::kEINVAL);
    const bool per_thread = (id & 4) != 0;
    const int32_t pid = ~(id >> 3);
    if (per_thread) {
        if (pid != 0 && pid != self.tid) return Error(Errno::kEINVAL);
        return ClockKind{Source::kThreadCpu, false};
    }
    if (pid != 0 && pid != self.pid) return Error(Errno::kEINVAL);
    return ClockKind{Source::kProcessCpu, true};
}

Result<ClockKind> clock_kind(int32_t id, ClockOwner self) {
    if (id < 0) return cpu_clock_kind(id, self);
    switch (id) {
        case kClockRealtime:
        case kClockTai:
        case kClockRealtimeAlarm:
            return ClockKind{Source::kRealtime, true};
        case kClockRealtimeCoarse:
            return ClockKind{Source::kRealtime, false};
        case kClockMonotonic:
        case kClockBoottime:
        case kClockBoottimeAlarm:
            return ClockKind{Source::kMonotonic, true};
        case kClockMonotonicRaw:
        case kClockMonotonicCoarse:
            return ClockKind{Source::kMonotonic, false};
        case kClockProcessCputimeId:
            return ClockKind{Source::kProcessCpu, true};
        case kClockThreadCputimeId:
            return ClockKind{Source::kThreadCpu, false};
        default:
            return Error(Errno::kEINVAL);
    }
}

uint64_t read(Source s, const ClockSample& now) {
    return s == Source::kRealtime ? now.wall_ns : now.monotonic_ns;
}

}  // namespace

Result<uint64_t> clock_read(int32_t id, const ClockSample& now, ClockOwner self) {
    ClockKind k = TRY(clock_kind(id, self));
    return read(k.source, now);
}

Result<uint64_t> clock_resolution(int32_t id, ClockOwner self) {
    TRY(clock_kind(id, self));
    return uint64_t{1};
}

Result<uint64_t> sleep_deadline(int32_t id, uint32_t flags, const KernelTimespec& req,
                                const ClockSample& now, ClockOwner self) {
    ClockKind k = TRY(clock_kind(id, self));
    // Linux: a thread CPU clock cannot be slept on (EINVAL); the others
    // without an nsleep method give EOPNOTSUPP.
    if (k.source == Source::kThreadCpu) return Error(Errno::kEINVAL);
    if (!k.can_sleep) return Error(Errno::kEOPNOTSUPP);
    if (!timespec_valid(req)) return Error(Errno::kEINVAL);
    const uint64_t ns = timespec_to_ns(req);
    if (!(flags & kTimerAbstime)) return add_ns_saturating(now.monotonic_ns, ns);
    const uint64_t clock_now = read(k.source, now);
    if (ns <= clock_now) return now.monotonic_ns;
    return add_ns_saturating(now.monotonic_ns, ns - clock_now);
}

}  // namespace kiln::sys
