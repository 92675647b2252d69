// timerfd_create(2) timers (timerfd.h). A read takes the expiration count
// (8 bytes, EINVAL for less, EAGAIN at zero); settime resets the count, arms
// the first expiration (relative or, with TFD_TIMER_ABSTIME, on the timer's
// clock) and the interval; gettime gives the time left and the interval.
#include "linux/timerfd.h"

#include "arch/x86_64/arch.h"
#include "arch/x86_64/clock.h"
#include "fs/tree.h"
#include "linux/clocks.h"
#include "mm/new.h"
#include "sched/timer.h"

namespace kiln::sys {
namespace {

class TimerFd;

// The sched::Timer first, so that fire() finds its timerfd.
struct TimerLink {
    sched::Timer timer;
    TimerFd* owner;
};

TimerFd* g_deferred = nullptr;  // expired, watchers not told yet; irqs masked
const char g_tag = 0;           // TimerFd's kind_tag

class TimerFd final : public fs::TreeInode {
public:
    explicit TimerFd(int clock) : clock_(clock) {
        fs::init_meta(this, 0600);
        link_.owner = this;
    }
    fs::InodeType type() const override { return fs::InodeType::kCharDevice; }  // see eventfd.cpp
    uint64_t size() const override { return 0; }
    bool seekable() const override { return false; }
    bool may_block() const override { return true; }
    fs::PollWatchers* poll_watchers() override { return &watchers_; }
    bool wakes_asynchronously() override { return link_.timer.armed; }
    uint32_t poll_events() override { return ticks_ > 0 ? fs::kPollReadable : 0; }
    uint64_t bytes_readable(uint64_t) const override { return ticks_ > 0 ? 8 : 0; }
    const void* kind_tag() const override { return &g_tag; }

    Result<size_t> read_at(uint64_t, void* buf, size_t n) override {
        if (n < 8) return Error(Errno::kEINVAL);
        uint64_t t;
        {
            arch::IrqGuard g;
            t = ticks_;
            ticks_ = 0;
        }
        if (t == 0) return Error(Errno::kEAGAIN);
        __builtin_memcpy(buf, &t, 8);
        return size_t{8};
    }
    Result<size_t> write_at(uint64_t, const void*, size_t) override {
        return Error(Errno::kEINVAL);
    }

    KernelItimerspec get() const {
        arch::IrqGuard g;
        KernelItimerspec v{ns_to_timespec(interval_ns_), {0, 0}};
        if (link_.timer.armed) {
            uint64_t now = arch::monotonic_ns();
            uint64_t d = link_.timer.deadline_ns;
            v.it_value = ns_to_timespec(d > now ? d - now : 1);
        }
        return v;
    }

    void set(uint64_t first_deadline, uint64_t interval) {
        arch::IrqGuard g;
        sched::timer_cancel(&link_.timer);
        ticks_ = 0;
        interval_ns_ = interval;
        if (first_deadline != 0) sched::timer_start(&link_.timer, first_deadline, fire);
    }

    int clock() const { return clock_; }

    // Runs with interrupts masked (interrupt context, or the IrqGuard).
    static void deliver_all() {
        while (g_deferred != nullptr) {
            TimerFd* t = g_deferred;
            g_deferred = t->deferred_next_;
            t->deferred_next_ = nullptr;
            t->deferred_ = false;
            t->watchers_.notify(fs::kPollReadable);
        }
    }

protected:
    void on_last_release() override {
        {
            arch::IrqGuard g;
            sched::timer_cancel(&link_.timer);
            if (deferred_) {
                for (TimerFd** p = &g_deferred; *p != nullptr; p = &(*p)->deferred_next_) {
                    if (*p == this) {
                        *p = deferred_next_;
                        break;
                    }
                }
            }
        }
        mm::destroy(this);
    }

private:
    // Interrupt context: count this expiration (and any missed while the
    // interrupt was late), re-arm for the next one, queue the notification.
    static void fire(sched::Timer* timer) {
        // SAFETY: every timer armed with fire() is the first member of a TimerLink.
        TimerFd* self = reinterpret_cast<TimerLink*>(timer)->owner;
        uint64_t count = 1;
        if (self->interval_ns_ != 0) {
            uint64_t now = arch::monotonic_ns();
            uint64_t due = timer->deadline_ns;
            if (now > due) count += (now - due) / self->interval_ns_;
            sched::timer_start(timer, due + count * self->interval_ns_, fire);
        }
        self->ticks_ += count;
        if (!self->deferred_) {
            self->deferred_ = true;
            self->deferred_next_ = g_deferred;
            g_deferred = self;
        }
    }

    TimerLink link_;
    int clock_;
    volatile uint64_t ticks_ = 0;
    uint64_t interval_ns_ = 0;
    bool deferred_ = false;
    TimerFd* deferred_next_ = nullptr;
    fs::PollWatchers watchers_;
};

TimerFd* as_timerfd(fs::Inode* in) {
    return in->kind_tag() == &g_tag ? static_cast<TimerFd*>(in) : nullptr;
}

}  // namespace

fs::Inode* make_timerfd(int clock) {
    return mm::make<TimerFd>(clock);
}

Result<KernelItimerspec> timerfd_settime(fs::Inode* in, bool absolute, const KernelItimerspec& v) {
    TimerFd* t = as_timerfd(in);
    if (t == nullptr) return Error(Errno::kEINVAL);
    if (!timespec_valid(v.it_value) || !timespec_valid(v.it_interval)) return Error(Errno::kEINVAL);
    KernelItimerspec old = t->get();
    uint64_t value = timespec_to_ns(v.it_value);
    uint64_t deadline = 0;
    if (value != 0) {
        uint64_t now = arch::monotonic_ns();
        if (!absolute) {
            deadline = add_ns_saturating(now, value);
        } else if (t->clock() == kClockRealtime) {
            // A wall-clock deadline as the monotonic time it falls on (the
            // guest's wall clock never jumps).
            uint64_t wall = arch::wall_ns();
            deadline = value > wall ? add_ns_saturating(now, value - wall) : now;
        } else {
            deadline = value;
        }
        if (deadline == 0) deadline = 1;
    }
    t->set(deadline, value != 0 ? timespec_to_ns(v.it_interval) : 0);
    return old;
}

Result<KernelItimerspec> timerfd_gettime(fs::Inode* in) {
    TimerFd* t = as_timerfd(in);
    if (t == nullptr) return Error(Errno::kEINVAL);
    return t->get();
}

void timerfd_deliver_notifications() {
    arch::IrqGuard g;
    TimerFd::deliver_all();
}

}  // namespace kiln::sys
