// Socket system calls (socket(2), socketpair(2), bind(2), listen(2),
// accept(2)/accept4, connect(2), shutdown(2), getsockname(2),
// getpeername(2), sendto(2), recvfrom(2)). AF_UNIX sockets are
// net/unix.h's, AF_INET and AF_INET6 the TCP/IP stack's (net/api.h,
// through net/service.h); the blocking cores are net_block.cpp's, the
// message calls net_msg.cpp's and the options net_opts.cpp's.
#include "klog.h"
#include "linux/fs_common.h"
#include "linux/net_socket.h"
#include "linux/user.h"
#include "net/service.h"
#include "sched/process.h"

namespace kiln::sys {
namespace {

using fs::File;

int fd_arg(uint64_t v) {
    return static_cast<int>(static_cast<int32_t>(v));
}

constexpr int kIpprotoTcp = 6, kIpprotoUdp = 17;
constexpr int kTypeMask = 0xf;

net::UnixCred my_cred() {
    const sched::Process& p = sched::current();
    return net::UnixCred{p.pid, p.euid, p.egid};
}

// A family's name for the log (AF_* of linux/socket.h), or nullptr.
const char* family_name(int family) {
    switch (family) {
        case 0:
            return "AF_UNSPEC";
        case 3:
            return "AF_AX25";
        case 4:
            return "AF_IPX";
        case 5:
            return "AF_APPLETALK";
        case 16:
            return "AF_NETLINK";
        case 17:
            return "AF_PACKET";
        case 30:
            return "AF_TIPC";
        case 31:
            return "AF_BLUETOOTH";
        case 38:
            return "AF_ALG";
        case 40:
            return "AF_VSOCK";
        case 44:
            return "AF_XDP";
        default:
            return nullptr;
    }
}

// Families nobody implements here, said once each. AF_NETLINK only at
// info level: glibc's getaddrinfo (AI_ADDRCONFIG) asks it which address
// families are configured and, refused, assumes both, which is also the
// safest answer here (with kiln.net.lazy the NIC is not up yet when it
// asks, and an IPv4-less answer would make it return no IPv4 addresses).
constexpr int kAfNetlink = 16;

void note_family(int family) {
    static uint64_t said = 0;
    if (family < 0 || family >= 64 || (said & (1ull << family))) return;
    said |= 1ull << family;
    const char* name = family_name(family);
    const char* fmt =
        "kiln: socket family %d%s%s%s is not supported (AF_UNIX, AF_INET and AF_INET6 are); "
        "EAFNOSUPPORT";
    if (family == kAfNetlink)
        klog::info(fmt, family, " (", name, ")");
    else
        klog::warn(fmt, family, name ? " (" : "", name ? name : "", name ? ")" : "");
}

Result<Socket*> make_socket(int family, int type, int protocol) {
    switch (family) {
        case net::kAfUnix: {
            if (type == kSockRaw) type = net::kSockDgram;  // as Linux's unix_create
            if (type != net::kSockStream && type != net::kSockDgram && type != net::kSockSeqpacket)
                return Error(Errno::kESOCKTNOSUPPORT);
            if (protocol != 0 && protocol != net::kAfUnix) return Error(Errno::kEPROTONOSUPPORT);
            net::UnixSocket* u = net::UnixSocket::create(type, my_cred());
            if (u == nullptr) return Error(Errno::kENOMEM);
            Socket* s = Socket::wrap_unix(u);
            if (s == nullptr) return Error(Errno::kENOMEM);
            return s;
        }
        case net::kAfInet:
        case net::kAfInet6: {
            if (type == kSockRaw) {
                klog::warn("kiln: SOCK_RAW sockets are not implemented; ESOCKTNOSUPPORT");
                return Error(Errno::kESOCKTNOSUPPORT);
            }
            if (type != net::kSockStream && type != net::kSockDgram)
                return Error(Errno::kESOCKTNOSUPPORT);
            if (protocol != 0 && protocol != (type == net::kSockStream ? kIpprotoTcp : kIpprotoUdp))
                return Error(Errno::kEPROTONOSUPPORT);
            net::Stack* st = net::stack();
            if (st == nullptr) return Error(Errno::kEAFNOSUPPORT);
            auto n = [&] {
                net::StackCall c;
                return st->socket(family, type, protocol);
            }();
            if (!n.ok()) return Error(n.error());
            Socket* s = Socket::wrap_inet(*n, protocol);
            if (s == nullptr) return Error(Errno::kENOMEM);
            return s;
        }
        default:
            note_family(family);
            return Error(Errno::kEAFNOSUPPORT);
    }
}

int64_t sys_socket(const SyscallArgs& a) {
    const int family = fd_arg(a.arg[0]);
    const int type = fd_arg(a.arg[1]);
    const int protocol = fd_arg(a.arg[2]);
    if (type & ~(kTypeMask | kSockNonblock | kSockCloexec)) return errno_result(Errno::kEINVAL);
    Socket* s = TRY_SYS(make_socket(family, type & kTypeMask, protocol));
    return to_syscall_result(install_socket(s, type));
}

int64_t sys_socketpair(const SyscallArgs& a) {
    const int family = fd_arg(a.arg[0]);
    const int type = fd_arg(a.arg[1]);
    const int protocol = fd_arg(a.arg[2]);
    if (type & ~(kTypeMask | kSockNonblock | kSockCloexec)) return errno_result(Errno::kEINVAL);
    if (family == net::kAfInet || family == net::kAfInet6) return errno_result(Errno::kEOPNOTSUPP);
    if (family != net::kAfUnix) {
        note_family(family);
        return errno_result(Errno::kEAFNOSUPPORT);
    }
    const int t = type & kTypeMask;
    if (protocol != 0 && protocol != net::kAfUnix) return errno_result(Errno::kEPROTONOSUPPORT);
    net::UnixSocket *x, *y;
    TRY_SYS(net::UnixSocket::pair(t, my_cred(), &x, &y));
    Socket* sx = Socket::wrap_unix(x);
    Socket* sy = Socket::wrap_unix(y);
    if (sx == nullptr || sy == nullptr) {
        if (sx) sx->release();
        if (sy) sy->release();
        return errno_result(Errno::kENOMEM);
    }
    auto fx = install_socket(sx, type);
    if (!fx.ok()) {
        sy->release();
        return errno_result(fx.error());
    }
    auto fy = install_socket(sy, type);
    if (!fy.ok()) {
        (void)fs::fd_table().close(*fx);
        return errno_result(fy.error());
    }
    int32_t fds[2] = {*fx, *fy};
    if (auto c = copy_to_user(a.arg[3], fds, sizeof fds); !c.ok()) {
        (void)fs::fd_table().close(*fx);
        (void)fs::fd_table().close(*fy);
        return errno_result(c.error());
    }
    return 0;
}

int64_t sys_bind(const SyscallArgs& a) {
    Socket* s = TRY_SYS(socket_of_fd(fd_arg(a.arg[0])));
    SockName name = TRY_SYS(read_sockaddr(a.arg[1], a.arg[2]));
    if (s->local() != nullptr) {
        if (name.family != net::kAfUnix) return errno_result(Errno::kEINVAL);
        const uint32_t mode = 0777 & ~sched::current().umask;
        return to_syscall_result(
            s->local()->bind(fs::fs_context(), fs::fs_context().cwd, name.local, mode));
    }
    // An AF_INET6 socket checks the length first (SIN6_LEN_RFC2133), as
    // Linux's inet6_bind: a sockaddr_in there is EINVAL.
    if (s->family() == net::kAfInet6 && a.arg[2] < 24) return errno_result(Errno::kEINVAL);
    // Linux's inet_bind takes AF_UNSPEC with INADDR_ANY as AF_INET (old
    // programs zero the whole sockaddr_in).
    if (s->family() == net::kAfInet && name.family == 0 && a.arg[2] >= 16 &&
        name.inet.addr[0] == 0 && name.inet.addr[1] == 0 && name.inet.addr[2] == 0 &&
        name.inet.addr[3] == 0)
        name.family = name.inet.family = net::kAfInet;
    if (name.family != s->family()) return errno_result(Errno::kEAFNOSUPPORT);
    auto r = [&] {
        net::StackCall c;
        return s->inet()->bind(name.inet);
    }();
    net::service_run();
    return to_syscall_result(r);
}

int64_t sys_listen(const SyscallArgs& a) {
    Socket* s = TRY_SYS(socket_of_fd(fd_arg(a.arg[0])));
    int backlog = fd_arg(a.arg[1]);
    if (backlog < 0) backlog = 0;
    if (backlog > 4096) backlog = 4096;  // net.core.somaxconn
    Result<void> r = s->local() != nullptr ? s->local()->listen(backlog) : [&] {
        net::StackCall c;
        return s->inet()->listen(backlog);
    }();
    if (r.ok()) s->listening = true;
    return to_syscall_result(r);
}

int64_t do_accept(const SyscallArgs& a, int flags) {
    if (flags & ~(kSockNonblock | kSockCloexec)) return errno_result(Errno::kEINVAL);
    File* f;
    Socket* s = TRY_SYS(socket_of_fd(fd_arg(a.arg[0]), &f));
    FileHold hold(f);
    if (s->sock_type() == net::kSockDgram) return errno_result(Errno::kEOPNOTSUPP);
    SockName peer;
    auto acc = socket_accept(f, s, &peer);
    if (!acc.ok()) return socket_result(s, errno_result(acc.error()), true);
    Socket* conn = *acc;
    // Check the address buffer first, so that a bad one loses nothing.
    if (a.arg[1] != 0) {
        auto room = read_user<int32_t>(a.arg[2]);
        if (!room.ok() || *room < 0) {
            conn->release();
            return errno_result(room.ok() ? Errno::kEINVAL : room.error());
        }
    }
    int fd = TRY_SYS(install_socket(conn, flags));
    if (auto w = write_sockaddr(peer, a.arg[1], a.arg[2]); !w.ok()) {
        (void)fs::fd_table().close(fd);
        return errno_result(w.error());
    }
    return fd;
}

int64_t sys_accept(const SyscallArgs& a) {
    return do_accept(a, 0);
}
int64_t sys_accept4(const SyscallArgs& a) {
    return do_accept(a, fd_arg(a.arg[3]));
}

int64_t sys_connect(const SyscallArgs& a) {
    File* f;
    Socket* s = TRY_SYS(socket_of_fd(fd_arg(a.arg[0]), &f));
    FileHold hold(f);
    SockName to = TRY_SYS(read_sockaddr(a.arg[1], a.arg[2]));
    if (s->family() == net::kAfInet6 && a.arg[2] < 24 && to.family != 0)
        return errno_result(Errno::kEINVAL);  // tcp_v6_connect's length check
    if (s->inet() != nullptr && to.family != s->family() && to.family != 0) {
        // An AF_INET socket takes only IPv4 addresses; an AF_INET6 one
        // maps IPv4 itself (::ffff:a.b.c.d).
        return errno_result(Errno::kEAFNOSUPPORT);
    }
    auto r = socket_connect(f, s, to);
    // An interrupted connect goes on in the background (EINTR, then
    // EALREADY), so it is never restarted.
    return to_syscall_result(r);
}

int64_t sys_shutdown(const SyscallArgs& a) {
    Socket* s = TRY_SYS(socket_of_fd(fd_arg(a.arg[0])));
    const int how = fd_arg(a.arg[1]);
    if (how < net::kShutRd || how > net::kShutRdWr) return errno_result(Errno::kEINVAL);
    if (s->local() != nullptr) return to_syscall_result(s->local()->shutdown(how));
    auto r = [&] {
        net::StackCall c;
        return s->inet()->shutdown(how);
    }();
    net::service_run();
    if (r.ok() && how != net::kShutRd && !s->shut_wr) {
        s->shut_wr = true;
        s->poll_watchers()->notify(s->poll_events());  // now writable (see poll_events)
    }
    return to_syscall_result(r);
}

int64_t do_name(const SyscallArgs& a, bool peer) {
    Socket* s = TRY_SYS(socket_of_fd(fd_arg(a.arg[0])));
    SockName name;
    name.family = static_cast<uint16_t>(s->family());
    if (s->local() != nullptr) {
        if (peer)
            TRY_SYS(s->local()->peer_name(&name.local));
        else
            name.local = s->local()->local_name();
    } else {
        auto r = [&] {
            net::StackCall c;
            return peer ? s->inet()->peer_name(&name.inet) : s->inet()->local_name(&name.inet);
        }();
        TRY_SYS(r);
        if (name.inet.family == 0) name.inet.family = name.family;
        name.family = name.inet.family;
    }
    return to_syscall_result(write_sockaddr(name, a.arg[1], a.arg[2]));
}

int64_t sys_getsockname(const SyscallArgs& a) {
    return do_name(a, false);
}
int64_t sys_getpeername(const SyscallArgs& a) {
    return do_name(a, true);
}

}  // namespace

// sendto/recvfrom and the msg calls: net_msg.cpp; options: net_opts.cpp.
int64_t sys_sendto(const SyscallArgs& a);
int64_t sys_recvfrom(const SyscallArgs& a);
int64_t sys_sendmsg(const SyscallArgs& a);
int64_t sys_recvmsg(const SyscallArgs& a);
int64_t sys_sendmmsg(const SyscallArgs& a);
int64_t sys_recvmmsg(const SyscallArgs& a);
int64_t sys_setsockopt(const SyscallArgs& a);
int64_t sys_getsockopt(const SyscallArgs& a);

// clang-format off
const SyscallDef kNet[] = {
    {__NR_socket, "socket", sys_socket, {Arg::kInt, Arg::kHex, Arg::kInt}},
    {__NR_socketpair, "socketpair", sys_socketpair, {Arg::kInt, Arg::kHex, Arg::kInt, Arg::kPtr}},
    {__NR_bind, "bind", sys_bind, {Arg::kFd, Arg::kPtr, Arg::kUInt}},
    {__NR_listen, "listen", sys_listen, {Arg::kFd, Arg::kInt}},
    {__NR_accept, "accept", sys_accept, {Arg::kFd, Arg::kPtr, Arg::kPtr}},
    {__NR_accept4, "accept4", sys_accept4, {Arg::kFd, Arg::kPtr, Arg::kPtr, Arg::kHex}},
    {__NR_connect, "connect", sys_connect, {Arg::kFd, Arg::kPtr, Arg::kUInt}},
    {__NR_shutdown, "shutdown", sys_shutdown, {Arg::kFd, Arg::kInt}},
    {__NR_getsockname, "getsockname", sys_getsockname, {Arg::kFd, Arg::kPtr, Arg::kPtr}},
    {__NR_getpeername, "getpeername", sys_getpeername, {Arg::kFd, Arg::kPtr, Arg::kPtr}},
    {__NR_sendto, "sendto", sys_sendto, {Arg::kFd, Arg::kBuf, Arg::kUInt, Arg::kHex, Arg::kPtr, Arg::kUInt}},
    {__NR_recvfrom, "recvfrom", sys_recvfrom, {Arg::kFd, Arg::kPtr, Arg::kUInt, Arg::kHex, Arg::kPtr, Arg::kPtr}},
    {__NR_sendmsg, "sendmsg", sys_sendmsg, {Arg::kFd, Arg::kPtr, Arg::kHex}},
    {__NR_recvmsg, "recvmsg", sys_recvmsg, {Arg::kFd, Arg::kPtr, Arg::kHex}},
    {__NR_sendmmsg, "sendmmsg", sys_sendmmsg, {Arg::kFd, Arg::kPtr, Arg::kUInt, Arg::kHex}},
    {__NR_recvmmsg, "recvmmsg", sys_recvmmsg, {Arg::kFd, Arg::kPtr, Arg::kUInt, Arg::kHex, Arg::kPtr}},
    {__NR_setsockopt, "setsockopt", sys_setsockopt, {Arg::kFd, Arg::kInt, Arg::kInt, Arg::kPtr, Arg::kUInt}},
    {__NR_getsockopt, "getsockopt", sys_getsockopt, {Arg::kFd, Arg::kInt, Arg::kInt, Arg::kPtr, Arg::kPtr}},
};
// clang-format on
extern const SyscallFamily kNetFamily = {kNet, sizeof(kNet) / sizeof(kNet[0])};

}  // namespace kiln::sys
