// The blocking cores of the socket calls (net_socket.h): send, receive,
// accept and connect wait as pipes do (fs_common.h) — in sched::wait,
// woken through the socket's watchers and the network service's queue —
// until they can go on, the socket's SO_RCVTIMEO/SO_SNDTIMEO passes
// (EAGAIN, or EINPROGRESS for connect) or a signal arrives (EINTR, or a
// restart after an SA_RESTART handler when the socket has no timeout).
#include <linux/fcntl.h>

#include "arch/x86_64/clock.h"
#include "fs/fd.h"
#include "linux/fs_common.h"
#include "linux/net_socket.h"
#include "linux/signal_frame.h"
#include "net/service.h"
#include "sched/process.h"
#include "sched/thread.h"
#include "sched/wait.h"

namespace kiln::sys {
namespace {

// SIGPIPE for a send on a socket whose peer is gone, through the signal
// family's own tgkill (as fs_common's pipe writes do).
void raise_sigpipe() {
    constexpr int kSigPipe = 13;
    const sched::Process& p = sched::current();
    const int32_t tid = sched::current_thread()->tid;
    SyscallArgs a = {{static_cast<uint64_t>(p.pid), static_cast<uint64_t>(tid), kSigPipe, 0, 0, 0}};
    (void)dispatch(__NR_tgkill, a);
}

uint64_t deadline_after(uint64_t timeout_ns) {
    if (timeout_ns == 0) return sched::kWaitForever;
    uint64_t now = arch::monotonic_ns();
    uint64_t d = now + timeout_ns;
    return d < now ? sched::kWaitForever : d;
}

// Waits until ready(ctx) holds (true), the deadline passes (false) or a
// signal is pending (EINTR); EDEADLK when nothing could end it. Watchers
// a and b (either may be null) wake the wait.
Result<bool> wait_on(fs::PollWatchers* a, fs::PollWatchers* b, uint64_t deadline, const char* what,
                     bool (*ready)(void*), void* ctx) {
    struct Waker {
        fs::PollWatcher watch;  // first: notify casts back
        sched::WaitQueue* queue;
    };
    sched::WaitQueue queue;
    Waker wa{{}, &queue}, wb{{}, &queue};
    auto notify = [](fs::PollWatcher* w, uint32_t) {
        // SAFETY: watch is the first member of the standard-layout Waker.
        reinterpret_cast<Waker*>(w)->queue->wake_all();
    };
    wa.watch.notify = wb.watch.notify = notify;
    if (a != nullptr) a->add(&wa.watch);
    if (b != nullptr && b != a) b->add(&wb.watch);
    sched::WaitQueue* queues[] = {&queue, &net::service_queue()};
    sched::WaitRequest req;
    req.queues = queues;
    req.queue_count = 2;
    req.deadline_ns = deadline;
    req.wakeable_now = [](void*) { return net::service_wakes() || signal_may_arrive(); };
    req.what = what;
    req.interrupted = signal_interrupts_wait;
    struct Check {
        bool (*ready)(void*);
        void* ctx;
    } check{ready, ctx};
    auto st = sched::wait(req, [&] {
        deliver_deferred_notifications();
        return check.ready(check.ctx);
    });
    if (a != nullptr) a->remove(&wa.watch);
    if (b != nullptr && b != a) b->remove(&wb.watch);
    if (st == sched::WaitStatus::kDeadlock) return Error(Errno::kEDEADLK);
    if (st == sched::WaitStatus::kInterrupted) return Error(Errno::kEINTR);
    return st == sched::WaitStatus::kReady;
}

// Waits for one of `want` in the socket's readiness.
Result<bool> wait_events(Socket* s, uint32_t want, uint64_t deadline, const char* what) {
    struct Ctx {
        Socket* s;
        uint32_t want;
    } ctx{s, want};
    return wait_on(
        s->poll_watchers(), nullptr, deadline, what,
        [](void* p) {
            auto* c = static_cast<Ctx*>(p);
            return (c->s->poll_events() & c->want) != 0;
        },
        &ctx);
}

bool nonblocking(fs::File* f, int flags) {
    return (f->flags & O_NONBLOCK) || (flags & net::kMsgDontWait);
}

constexpr uint32_t kReadWake = fs::kPollIn | fs::kPollErr | fs::kPollHup | fs::kPollRdHup;
constexpr uint32_t kWriteWake = fs::kPollOut | fs::kPollErr | fs::kPollHup;

}  // namespace

Result<size_t> socket_send(fs::File* f, Socket* s, Span<const uint8_t> data, int flags,
                           const SockName* to, net::UnixRights* rights) {
    const bool nb = nonblocking(f, flags);
    const bool stream = s->sock_type() == net::kSockStream;
    // An AF_UNIX datagram's destination is looked up once and waited on.
    net::UnixSocket* target = nullptr;
    if (s->local() != nullptr && to != nullptr && s->sock_type() == net::kSockDgram) {
        if (to->family != net::kAfUnix) return Error(Errno::kEINVAL);
        target = TRY(net::UnixSocket::lookup(fs::fs_context(), fs::fs_context().cwd, to->local));
    }
    const uint64_t deadline = deadline_after(s->sndtimeo_ns);
    size_t done = 0;
    Errno err = Errno(0);
    for (;;) {
        Span<const uint8_t> rest = data.subspan(done);
        auto r = target != nullptr ? s->local()->send(rest, flags, target, rights)
                                   : s->try_send(rest, flags, to, rights);
        if (r.ok()) {
            done += *r;
            if (done >= data.size() || !stream || nb) break;
            continue;
        }
        if (r.error() != Errno::kEAGAIN || nb) {
            err = r.error();
            break;
        }
        struct Ctx {
            net::UnixSocket* self;
            net::UnixSocket* target;
            size_t n;
        } ctx{s->local(), target, stream ? 1 : rest.size()};
        auto w = s->local() == nullptr ? wait_events(s, kWriteWake, deadline, "a blocking send")
                                       : wait_on(
                                             &s->local()->watchers(),
                                             target != nullptr ? &target->watchers() : nullptr,
                                             deadline, "a blocking send",
                                             [](void* p) {
                                                 auto* c = static_cast<Ctx*>(p);
                                                 return c->self->can_send(c->target, c->n);
                                             },
                                             &ctx);
        if (!w.ok() || !*w) {
            err = w.ok() ? Errno::kEAGAIN : w.error();
            break;
        }
    }
    if (target != nullptr) target->release();
    if (done > 0 || err == Errno(0)) return done;
    // Only stream sockets raise SIGPIPE (datagram and seqpacket sends just
    // fail, as Linux's unix_dgram_sendmsg and UDP).
    if (err == Errno::kEPIPE && !(flags & net::kMsgNoSignal) && stream) raise_sigpipe();
    return Error(err);
}

Result<size_t> socket_recv(fs::File* f, Socket* s, Span<uint8_t> buf, int flags, SockName* from,
                           size_t* full_len, net::UnixRights* rights) {
    const bool nb = nonblocking(f, flags);
    const bool waitall = (flags & net::kMsgWaitAll) && !(flags & net::kMsgPeek) &&
                         s->sock_type() == net::kSockStream;
    const uint64_t deadline = deadline_after(s->rcvtimeo_ns);
    size_t done = 0;
    for (;;) {
        auto r = s->try_recv(buf.subspan(done), flags, from, full_len, rights);
        if (r.ok()) {
            done += *r;
            if (!waitall || *r == 0 || done >= buf.size() || nb) return done;
            continue;
        }
        if (r.error() != Errno::kEAGAIN || nb) {
            if (done > 0) return done;
            return Error(r.error());
        }
        auto w = wait_events(s, kReadWake, deadline, "a blocking receive");
        if (!w.ok() || !*w) {
            if (done > 0) return done;
            return Error(w.ok() ? Errno::kEAGAIN : w.error());
        }
    }
}

Result<Socket*> socket_accept(fs::File* f, Socket* s, SockName* peer) {
    const bool nb = nonblocking(f, 0);
    const uint64_t deadline = deadline_after(s->rcvtimeo_ns);
    for (;;) {
        if (s->local() != nullptr) {
            auto r = s->local()->accept();
            if (r.ok()) {
                net::UnixSocket* u = *r;
                peer->family = net::kAfUnix;
                if (!u->peer_name(&peer->local).ok()) peer->local = net::UnixAddr{};
                Socket* w = Socket::wrap_unix(u);
                if (w == nullptr) return Error(Errno::kENOMEM);
                return w;
            }
            if (r.error() != Errno::kEAGAIN || nb) return Error(r.error());
        } else {
            auto r = [&] {
                net::StackCall c;
                return s->inet()->accept(&peer->inet);
            }();
            net::service_run();
            if (r.ok()) {
                peer->family = peer->inet.family;
                Socket* w = Socket::wrap_inet(*r, s->protocol());
                if (w == nullptr) return Error(Errno::kENOMEM);
                return w;
            }
            if (r.error() != Errno::kEAGAIN || nb) return Error(r.error());
        }
        auto w = wait_events(s, kReadWake, deadline, "accept");
        if (!w.ok()) return Error(w.error());
        if (!*w) return Error(Errno::kEAGAIN);
    }
}

Result<void> socket_connect(fs::File* f, Socket* s, const SockName& to) {
    const bool nb = nonblocking(f, 0);
    const uint64_t deadline = deadline_after(s->sndtimeo_ns);
    if (s->local() != nullptr) {
        net::UnixSocket* u = s->local();
        if (to.family == 0 && u->type() == net::kSockDgram) return u->connect(nullptr);
        if (to.family != net::kAfUnix) return Error(Errno::kEINVAL);
        net::UnixSocket* target =
            TRY(net::UnixSocket::lookup(fs::fs_context(), fs::fs_context().cwd, to.local));
        Errno err = Errno(0);
        for (;;) {
            auto r = u->connect(target);
            if (r.ok()) break;
            err = r.error();
            if (err != Errno::kEAGAIN || nb) break;
            auto w = wait_on(
                &target->watchers(), nullptr, deadline, "connect",
                [](void* p) { return static_cast<net::UnixSocket*>(p)->backlog_has_room(); },
                target);
            if (!w.ok() || !*w) {
                err = w.ok() ? Errno::kEAGAIN : w.error();
                break;
            }
            err = Errno(0);
        }
        target->release();
        if (err != Errno(0)) return Error(err);
        return {};
    }
    auto r = [&] {
        net::StackCall c;
        return s->inet()->connect(to.inet);
    }();
    net::service_run();
    // The first connect after a background one completed reports its
    // success (0), later ones EISCONN: Linux's inet_stream_connect.
    const bool was_connecting = s->connecting;
    s->connecting = !r.ok() && (r.error() == Errno::kEINPROGRESS || r.error() == Errno::kEALREADY);
    if (!r.ok() && r.error() == Errno::kEISCONN && was_connecting) return {};
    if (r.ok() || r.error() != Errno::kEINPROGRESS || nb) return r;
    auto w = wait_events(s, kWriteWake, deadline, "connect");
    if (!w.ok()) return Error(w.error());
    if (!*w) return Error(Errno::kEINPROGRESS);
    s->connecting = false;
    int e = s->take_error();
    if (e != 0) return Error(static_cast<Errno>(e));
    return {};
}

int64_t socket_result(Socket* s, int64_t r, bool receiving) {
    if (r != errno_result(Errno::kEINTR)) return r;
    const uint64_t timeout = receiving ? s->rcvtimeo_ns : s->sndtimeo_ns;
    return timeout != 0 ? r : restart_if_interrupted(r);
}

}  // namespace kiln::sys
