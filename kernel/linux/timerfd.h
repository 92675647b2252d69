// timerfd_create(2) timers: one sched::Timer each, counting expirations in
// interrupt context; the epoll/poll watchers hear of an expiration when a
// system call next delivers the deferred notifications (never from the
// interrupt, so epoll's lists are only touched by system calls).
#pragma once

#include <stdint.h>

#include "fs/inode.h"
#include "linux/timespec.h"

namespace kiln::sys {

struct KernelItimerspec {  // struct itimerspec
    KernelTimespec it_interval;
    KernelTimespec it_value;
};
static_assert(sizeof(KernelItimerspec) == 32);

// A new timerfd inode on clock (CLOCK_REALTIME, CLOCK_MONOTONIC or
// CLOCK_BOOTTIME), disarmed; nullptr on ENOMEM.
fs::Inode* make_timerfd(int clock);
// timerfd_settime/gettime on an inode from make_timerfd; EINVAL for any
// other inode or a bad value.
Result<KernelItimerspec> timerfd_settime(fs::Inode* in, bool absolute, const KernelItimerspec& v);
Result<KernelItimerspec> timerfd_gettime(fs::Inode* in);

// Tells the watchers of every timerfd that expired since the last call.
void timerfd_deliver_notifications();

}  // namespace kiln::sys
