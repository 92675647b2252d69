// Sockets as open files and the blocking cores of the socket calls
// (net_socket.h). Blocking follows the pipe code's rules (fs_common.h): a
// call that would wait sleeps in sched::wait, woken through the socket's
// watchers, until it can go on, its SO_RCVTIMEO/SO_SNDTIMEO passes
// (EAGAIN, or EINPROGRESS for connect) or a signal arrives (EINTR, or a
// restart after an SA_RESTART handler when the socket has no timeout).
#include "linux/net_socket.h"

#include <linux/fcntl.h>

#include "arch/x86_64/clock.h"
#include "fs/fd.h"
#include "fs/tree.h"
#include "kiln/format.h"
#include "linux/fs_common.h"
#include "linux/signal_frame.h"
#include "linux/user.h"
#include "mm/new.h"
#include "net/service.h"
#include "sched/process.h"
#include "sched/thread.h"
#include "sched/wait.h"

namespace kiln::sys {
namespace {

const char g_socket_tag = 0;

uint16_t load_be16(const uint8_t* p) { return static_cast<uint16_t>((p[0] << 8) | p[1]); }
void store_be16(uint8_t* p, uint16_t v) {
    p[0] = static_cast<uint8_t>(v >> 8);
    p[1] = static_cast<uint8_t>(v);
}

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
    return wait_on(s->poll_watchers(), nullptr, deadline, what,
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

// ---- the inode ----

Socket* Socket::wrap_unix(net::UnixSocket* u) {
    auto* s = mm::make<Socket>();
    if (s == nullptr) {
        u->close();
        return nullptr;
    }
    fs::init_meta(s, 0777);
    s->family_ = net::kAfUnix;
    s->type_ = u->type();
    s->local_ = u;
    return s;
}

Socket* Socket::wrap_inet(net::Socket* n, int protocol) {
    auto* s = mm::make<Socket>();
    if (s == nullptr) {
        net::StackCall c;
        n->close();
        return nullptr;
    }
    fs::init_meta(s, 0777);
    s->family_ = n->family();
    s->type_ = n->type();
    s->protocol_ = protocol != 0 ? protocol : (s->type_ == net::kSockStream ? 6 : 17);
    s->inet_ = n;
    return s;
}

void Socket::on_last_release() {
    if (local_ != nullptr) local_->close();
    if (inet_ != nullptr) {
        {
            net::StackCall c;
            inet_->close();
        }
        net::service_run();
    }
    mm::destroy(this);
}

const void* Socket::kind_tag() const { return &g_socket_tag; }

Socket* as_socket(fs::Inode* in) {
    return in != nullptr && in->kind_tag() == &g_socket_tag ? static_cast<Socket*>(in) : nullptr;
}

Result<Socket*> socket_of_fd(int fd, fs::File** file) {
    fs::File* f = TRY(fs::file_of_fd(fd));
    Socket* s = as_socket(f->inode());
    if (s == nullptr) return Error(Errno::kENOTSOCK);
    if (file != nullptr) *file = f;
    return s;
}

Result<int> install_socket(Socket* s, int flags) {
    char name[32];  // what /proc/self/fd shows, as on Linux
    format(name, sizeof name, "socket:[%lu]", static_cast<unsigned long>(s->meta.ino));
    fs::File* f = fs::File::make(s, O_RDWR | ((flags & kSockNonblock) ? O_NONBLOCK : 0), name);
    if (f == nullptr) {
        s->release();
        return Error(Errno::kENOMEM);
    }
    auto fd = fs::fd_table().install(f, flags & kSockCloexec);
    f->release();
    return fd;
}

Result<size_t> Socket::try_send(Span<const uint8_t> data, int flags, const SockName* to,
                                net::UnixRights* rights) {
    if (local_ != nullptr) {
        if (to == nullptr) return local_->send(data, flags, nullptr, rights);
        if (type_ != net::kSockDgram) {
            net::UnixAddr peer;
            return Error(local_->peer_name(&peer).ok() ? Errno::kEISCONN : Errno::kEOPNOTSUPP);
        }
        if (to->family != net::kAfUnix) return Error(Errno::kEINVAL);
        net::UnixSocket* target = TRY(net::UnixSocket::lookup(fs::fs_context(), fs::fs_context().cwd, to->local));
        auto r = local_->send(data, flags, target, rights);
        target->release();
        return r;
    }
    auto r = [&] {
        net::StackCall c;
        return inet_->send(data, flags, to != nullptr ? &to->inet : nullptr);
    }();
    net::service_run();
    return r;
}

Result<size_t> Socket::try_recv(Span<uint8_t> buf, int flags, SockName* from, size_t* full_len,
                                net::UnixRights* rights) {
    if (local_ != nullptr) {
        net::UnixAddr a;
        auto r = local_->recv(buf, flags, from != nullptr ? &a : nullptr, full_len, rights);
        if (r.ok() && from != nullptr) {
            from->family = net::kAfUnix;
            from->local = a;
        }
        return r;
    }
    net::SockAddr a;
    auto r = [&] {
        net::StackCall c;
        return inet_->recv(buf, flags, from != nullptr ? &a : nullptr, full_len);
    }();
    net::service_run();
    if (r.ok() && from != nullptr) {
        from->family = a.family;
        from->inet = a;
    }
    return r;
}

Result<size_t> Socket::read_at(uint64_t, void* buf, size_t n) {
    return try_recv(Span<uint8_t>(static_cast<uint8_t*>(buf), n), 0, nullptr, nullptr, nullptr);
}

Result<size_t> Socket::write_at(uint64_t, const void* buf, size_t n) {
    return try_send(Span<const uint8_t>(static_cast<const uint8_t*>(buf), n), 0, nullptr, nullptr);
}

uint64_t Socket::bytes_readable(uint64_t) const {
    if (local_ != nullptr) return local_->readable_bytes();
    net::StackCall c;
    return inet_->readable_bytes();
}

size_t Socket::unsent_bytes() const {
    if (local_ != nullptr) return local_->unsent_bytes();
    net::StackCall c;
    return inet_->unsent_bytes();
}

int Socket::take_error() {
    if (local_ != nullptr) return local_->take_error();
    net::StackCall c;
    return inet_->take_error();
}

uint32_t Socket::poll_events() {
    if (local_ != nullptr) return local_->poll_events();
    net::StackCall c;
    return inet_->poll_events();
}

fs::PollWatchers* Socket::poll_watchers() {
    return local_ != nullptr ? &local_->watchers() : &inet_->watchers();
}

Result<int64_t> Socket::ioctl(uint32_t cmd, uint64_t arg) {
    constexpr uint32_t kSiocOutq = 0x5411;  // TIOCOUTQ
    constexpr uint32_t kSiocAtmark = 0x8905;
    switch (cmd) {
    case kSiocOutq: {
        size_t n = unsent_bytes();
        TRY(write_user<int>(arg, n > 0x7fffffff ? 0x7fffffff : static_cast<int>(n)));
        return int64_t{0};
    }
    case kSiocAtmark:
        // No urgent data is kept apart: never at the mark.
        TRY(write_user<int>(arg, 0));
        return int64_t{0};
    default: return Error(Errno::kENOTTY);
    }
}

bool Socket::wakes_asynchronously() { return inet_ != nullptr && net::service_wakes(); }

// ---- addresses ----

Result<SockName> read_sockaddr(uint64_t uaddr, uint64_t len) {
    constexpr size_t kStorage = 128;  // sizeof(struct sockaddr_storage)
    if (static_cast<int32_t>(len) < 0 || len > kStorage) return Error(Errno::kEINVAL);
    if (len < 2) return Error(Errno::kEINVAL);
    uint8_t b[kStorage];
    TRY(copy_from_user(b, uaddr, len));
    SockName n;
    __builtin_memcpy(&n.family, b, 2);
    switch (n.family) {
    case net::kAfUnix: {
        size_t plen = len - 2;
        if (plen > net::kUnixPathMax) return Error(Errno::kEINVAL);
        if (plen > 0 && b[2] != 0) {
            size_t l = 0;  // a path ends at its NUL, if any
            while (l < plen && b[2 + l] != 0) l++;
            plen = l;
        }
        n.local.len = static_cast<uint8_t>(plen);
        __builtin_memcpy(n.local.path, b + 2, plen);
        break;
    }
    case net::kAfInet:
        if (len < 16) return Error(Errno::kEINVAL);
        n.inet.family = net::kAfInet;
        n.inet.port = load_be16(b + 2);
        __builtin_memcpy(n.inet.addr, b + 4, 4);
        break;
    case net::kAfInet6:
        if (len < 24) return Error(Errno::kEINVAL);  // SIN6_LEN_RFC2133
        n.inet.family = net::kAfInet6;
        n.inet.port = load_be16(b + 2);
        __builtin_memcpy(&n.inet.flowinfo, b + 4, 4);
        __builtin_memcpy(n.inet.addr, b + 8, 16);
        if (len >= 28) __builtin_memcpy(&n.inet.scope_id, b + 24, 4);
        break;
    default: n.inet.family = n.family; break;
    }
    return n;
}

Result<void> write_sockaddr(const SockName& name, uint64_t uaddr, uint64_t ulen) {
    if (uaddr == 0) return {};
    int32_t room = TRY(read_user<int32_t>(ulen));
    if (room < 0) return Error(Errno::kEINVAL);
    uint8_t b[128] = {};
    size_t full = 0;
    __builtin_memcpy(b, &name.family, 2);
    switch (name.family) {
    case net::kAfUnix:
        __builtin_memcpy(b + 2, name.local.path, name.local.len);
        // A path name is reported with its NUL (Linux's addr_len).
        full = 2 + name.local.len + (name.local.len > 0 && !name.local.abstract() ? 1 : 0);
        break;
    case net::kAfInet:
        store_be16(b + 2, name.inet.port);
        __builtin_memcpy(b + 4, name.inet.addr, 4);
        full = 16;
        break;
    case net::kAfInet6:
        store_be16(b + 2, name.inet.port);
        __builtin_memcpy(b + 4, &name.inet.flowinfo, 4);
        __builtin_memcpy(b + 8, name.inet.addr, 16);
        __builtin_memcpy(b + 24, &name.inet.scope_id, 4);
        full = 28;
        break;
    default: full = 0; break;
    }
    size_t n = full < static_cast<size_t>(room) ? full : static_cast<size_t>(room);
    if (n > 0) TRY(copy_to_user(uaddr, b, n));
    return write_user<int32_t>(ulen, static_cast<int32_t>(full));
}

// ---- blocking cores ----

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
        auto w = s->local() == nullptr
                     ? wait_events(s, kWriteWake, deadline, "a blocking send")
                     : wait_on(&s->local()->watchers(), target != nullptr ? &target->watchers() : nullptr,
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
    if (err == Errno::kEPIPE && !(flags & net::kMsgNoSignal)) raise_sigpipe();
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
        net::UnixSocket* target = TRY(net::UnixSocket::lookup(fs::fs_context(), fs::fs_context().cwd, to.local));
        Errno err = Errno(0);
        for (;;) {
            auto r = u->connect(target);
            if (r.ok()) break;
            err = r.error();
            if (err != Errno::kEAGAIN || nb) break;
            auto w = wait_on(&target->watchers(), nullptr, deadline, "connect",
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
    if (r.ok() || r.error() != Errno::kEINPROGRESS || nb) return r;
    auto w = wait_events(s, kWriteWake, deadline, "connect");
    if (!w.ok()) return Error(w.error());
    if (!*w) return Error(Errno::kEINPROGRESS);
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
