// setsockopt(2) and getsockopt(2). SOL_SOCKET options that are the
// socket layer's (timeouts, type, domain, protocol, pending error,
// SO_ACCEPTCONN, SO_PEERCRED) are answered here for every socket; the rest
// go to the TCP/IP stack for AF_INET/AF_INET6 sockets. The generic
// SOL_SOCKET options servers set without caring (SO_REUSEADDR,
// SO_KEEPALIVE, buffer sizes, ...) are kept here when the stack does not
// know them: an error there makes nginx, redis and python's http.server
// give up (see the syscall census). AF_UNIX sockets have no other levels
// (EOPNOTSUPP, as Linux).
#include "linux/fs_common.h"
#include "linux/net_socket.h"
#include "linux/timespec.h"
#include "linux/user.h"
#include "net/service.h"

namespace kiln::sys {
namespace {

int fd_arg(uint64_t v) {
    return static_cast<int>(static_cast<int32_t>(v));
}

// SOL_SOCKET option names (asm-generic/socket.h).
enum : int {
    kSoDebug = 1,
    kSoReuseaddr = 2,
    kSoType = 3,
    kSoError = 4,
    kSoDontroute = 5,
    kSoBroadcast = 6,
    kSoSndbuf = 7,
    kSoRcvbuf = 8,
    kSoKeepalive = 9,
    kSoOobinline = 10,
    kSoNoCheck = 11,
    kSoPriority = 12,
    kSoLinger = 13,
    kSoReuseport = 15,
    kSoPasscred = 16,
    kSoPeercred = 17,
    kSoRcvlowat = 18,
    kSoSndlowat = 19,
    kSoRcvtimeoOld = 20,
    kSoSndtimeoOld = 21,
    kSoBindtodevice = 25,
    kSoTimestamp = 29,
    kSoAcceptconn = 30,
    kSoSndbufforce = 32,
    kSoRcvbufforce = 33,
    kSoPasssec = 34,
    kSoMark = 36,
    kSoProtocol = 38,
    kSoDomain = 39,
    kSoBusyPoll = 46,
    kSoIncomingCpu = 49,
    kSoZerocopy = 60,
    kSoRcvtimeoNew = 66,
    kSoSndtimeoNew = 67,
};

constexpr int kMaxBuf = 4 * 1024 * 1024;  // net.core.[rw]mem_max-like cap

// The int a generic option keeps here, or nullptr for others.
int* kept_int(Socket* s, int name) {
    switch (name) {
        case kSoReuseaddr:
            return &s->opt_reuseaddr;
        case kSoReuseport:
            return &s->opt_reuseport;
        case kSoKeepalive:
            return &s->opt_keepalive;
        case kSoBroadcast:
            return &s->opt_broadcast;
        case kSoPasscred:
            return &s->opt_passcred;
        case kSoOobinline:
            return &s->opt_oobinline;
        case kSoPriority:
            return &s->opt_priority;
        case kSoRcvlowat:
            return &s->opt_rcvlowat;
        case kSoSndbuf:
        case kSoSndbufforce:
            return &s->opt_sndbuf;
        case kSoRcvbuf:
        case kSoRcvbufforce:
            return &s->opt_rcvbuf;
        default:
            return nullptr;
    }
}

// Options accepted and ignored: they change nothing a guest can observe
// here (routing, marks, timestamps of an unused kind, busy polling).
bool ignored(int name) {
    switch (name) {
        case kSoDebug:
        case kSoDontroute:
        case kSoNoCheck:
        case kSoBindtodevice:
        case kSoTimestamp:
        case kSoPasssec:
        case kSoMark:
        case kSoBusyPoll:
        case kSoIncomingCpu:
        case kSoZerocopy:
            return true;
        default:
            return false;
    }
}

bool is_timeout(int name) {
    return name == kSoRcvtimeoOld || name == kSoRcvtimeoNew || name == kSoSndtimeoOld ||
           name == kSoSndtimeoNew;
}

bool is_receive_timeout(int name) {
    return name == kSoRcvtimeoOld || name == kSoRcvtimeoNew;
}

Result<void> set_timeout(Socket* s, int name, uint64_t uval, int len) {
    if (len < static_cast<int>(sizeof(KernelTimeval))) return Error(Errno::kEINVAL);
    KernelTimeval tv = TRY(read_user<KernelTimeval>(uval));
    if (tv.tv_usec < 0 || tv.tv_usec >= 1000000) return Error(Errno::kEDOM);
    uint64_t ns = 0;
    if (tv.tv_sec < 0) {
        ns = 1;  // in the past: calls time out at once
    } else if (tv.tv_sec >= 1'000'000'000'000) {
        ns = ~uint64_t{0};  // longer than any run: for ever
    } else if (tv.tv_sec > 0 || tv.tv_usec > 0) {
        ns = static_cast<uint64_t>(tv.tv_sec) * kNsPerSec +
             static_cast<uint64_t>(tv.tv_usec) * kNsPerUsec;
    }
    (is_receive_timeout(name) ? s->rcvtimeo_ns : s->sndtimeo_ns) = ns;
    return {};
}

Result<void> set_local(Socket* s, int name, uint64_t uval, int len) {
    if (is_timeout(name)) return set_timeout(s, name, uval, len);
    if (name == kSoLinger) {
        if (len < 8) return Error(Errno::kEINVAL);
        int32_t l[2];
        TRY(copy_from_user(l, uval, sizeof l));
        s->opt_linger_on = l[0] != 0;
        s->opt_linger_secs = l[1];
        return {};
    }
    if (name == kSoSndlowat) return Error(Errno::kENOPROTOOPT);  // Linux refuses it too
    int* kept = kept_int(s, name);
    if (kept == nullptr && !ignored(name)) return Error(Errno::kENOPROTOOPT);
    if (len < static_cast<int>(sizeof(int))) return Error(Errno::kEINVAL);
    int v = TRY(read_user<int>(uval));
    if (kept == nullptr) return {};
    if (name == kSoSndbuf || name == kSoRcvbuf || name == kSoSndbufforce ||
        name == kSoRcvbufforce) {
        // Linux doubles the value (room for its bookkeeping) within limits.
        if (v < 0) v = 0;
        if (v > kMaxBuf / 2) v = kMaxBuf / 2;
        v = v * 2 < 4608 ? 4608 : v * 2;
    } else if (name == kSoRcvlowat) {
        if (v < 1) v = 1;
    } else if (name != kSoPriority) {
        v = v != 0;
    }
    *kept = v;
    return {};
}

// Asks the stack; ENOPROTOOPT when it has no such option.
Result<void> set_inet(Socket* s, int level, int name, uint64_t uval, int len) {
    uint8_t buf[256];
    if (len > static_cast<int>(sizeof buf)) len = sizeof buf;
    if (len > 0) TRY(copy_from_user(buf, uval, static_cast<size_t>(len)));
    auto r = [&] {
        net::StackCall c;
        return s->inet()->set_option(level, name,
                                     Span<const uint8_t>(buf, static_cast<size_t>(len)));
    }();
    net::service_run();
    return r;
}

int64_t sys_setsockopt_impl(const SyscallArgs& a) {
    Socket* s = TRY_SYS(socket_of_fd(fd_arg(a.arg[0])));
    const int level = fd_arg(a.arg[1]);
    const int name = fd_arg(a.arg[2]);
    const uint64_t uval = a.arg[3];
    const int len = fd_arg(a.arg[4]);
    if (len < 0) return errno_result(Errno::kEINVAL);
    if (level == kSolSocket) {
        if (is_timeout(name) || name == kSoPeercred || name == kSoType || name == kSoError ||
            name == kSoDomain || name == kSoProtocol || name == kSoAcceptconn) {
            if (!is_timeout(name)) return errno_result(Errno::kENOPROTOOPT);  // read-only
            return to_syscall_result(set_timeout(s, name, uval, len));
        }
        if (s->inet() != nullptr) {
            auto r = set_inet(s, level, name, uval, len);
            if (r.ok() || r.error() != Errno::kENOPROTOOPT) {
                // Keep our copy in step for getsockopt's fallback.
                if (r.ok()) (void)set_local(s, name, uval, len);
                return to_syscall_result(r);
            }
        }
        return to_syscall_result(set_local(s, name, uval, len));
    }
    if (s->local() != nullptr) return errno_result(Errno::kEOPNOTSUPP);
    return to_syscall_result(set_inet(s, level, name, uval, len));
}

// Writes an option's value: at most the room the caller gave, and the
// length written back (Linux truncates rather than failing).
int64_t put(uint64_t uval, uint64_t ulen, int room, const void* v, size_t n) {
    size_t w = n < static_cast<size_t>(room) ? n : static_cast<size_t>(room);
    if (w > 0) TRY_SYS(copy_to_user(uval, v, w));
    TRY_SYS(write_user<int32_t>(ulen, static_cast<int32_t>(w)));
    return 0;
}

int64_t put_int(uint64_t uval, uint64_t ulen, int room, int v) {
    return put(uval, ulen, room, &v, sizeof v);
}

int64_t sys_getsockopt_impl(const SyscallArgs& a) {
    Socket* s = TRY_SYS(socket_of_fd(fd_arg(a.arg[0])));
    const int level = fd_arg(a.arg[1]);
    const int name = fd_arg(a.arg[2]);
    const uint64_t uval = a.arg[3], ulen = a.arg[4];
    const int room = TRY_SYS(read_user<int32_t>(ulen));
    if (room < 0) return errno_result(Errno::kEINVAL);
    if (level == kSolSocket) {
        switch (name) {
            case kSoType:
                return put_int(uval, ulen, room, s->sock_type());
            case kSoDomain:
                return put_int(uval, ulen, room, s->family());
            case kSoProtocol:
                return put_int(uval, ulen, room, s->protocol());
            case kSoError:
                return put_int(uval, ulen, room, s->take_error());
            case kSoAcceptconn:
                return put_int(uval, ulen, room, s->listening ? 1 : 0);
            case kSoPeercred: {
                net::UnixCred c =
                    s->local() != nullptr ? s->local()->peer_cred() : net::UnixCred{0, ~0u, ~0u};
                return put(uval, ulen, room, &c, sizeof c);
            }
            case kSoRcvtimeoOld:
            case kSoRcvtimeoNew:
            case kSoSndtimeoOld:
            case kSoSndtimeoNew: {
                uint64_t ns = is_receive_timeout(name) ? s->rcvtimeo_ns : s->sndtimeo_ns;
                KernelTimeval tv{static_cast<int64_t>(ns / kNsPerSec),
                                 static_cast<int64_t>((ns % kNsPerSec) / kNsPerUsec)};
                return put(uval, ulen, room, &tv, sizeof tv);
            }
            default:
                break;
        }
    }
    if (s->inet() != nullptr) {
        uint8_t buf[256] = {};
        size_t cap =
            static_cast<size_t>(room) < sizeof buf ? static_cast<size_t>(room) : sizeof buf;
        auto r = [&] {
            net::StackCall c;
            return s->inet()->get_option(level, name, Span<uint8_t>(buf, cap));
        }();
        if (r.ok()) return put(uval, ulen, room, buf, *r);
        if (level != kSolSocket || r.error() != Errno::kENOPROTOOPT) return errno_result(r.error());
    } else if (level != kSolSocket) {
        return errno_result(Errno::kEOPNOTSUPP);
    }
    if (name == kSoLinger) {
        int32_t l[2] = {s->opt_linger_on, s->opt_linger_secs};
        return put(uval, ulen, room, l, sizeof l);
    }
    if (name == kSoSndlowat) return put_int(uval, ulen, room, 1);
    int* kept = kept_int(s, name);
    if (kept != nullptr) return put_int(uval, ulen, room, *kept);
    if (ignored(name)) return put_int(uval, ulen, room, 0);
    return errno_result(Errno::kENOPROTOOPT);
}

}  // namespace

int64_t sys_setsockopt(const SyscallArgs& a) {
    return sys_setsockopt_impl(a);
}
int64_t sys_getsockopt(const SyscallArgs& a) {
    return sys_getsockopt_impl(a);
}

}  // namespace kiln::sys
