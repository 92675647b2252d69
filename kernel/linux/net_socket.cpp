// Sockets as open files (net_socket.h): the kSocket inode in front of an
// AF_UNIX socket or one of the stack's, its non-blocking cores, and the
// ABI's socket addresses. The blocking cores are net_block.cpp's.
#include "linux/net_socket.h"

#include <linux/fcntl.h>

#include "fs/fd.h"
#include "fs/tree.h"
#include "kiln/format.h"
#include "linux/user.h"
#include "mm/new.h"
#include "net/service.h"

namespace kiln::sys {
namespace {

const char g_socket_tag = 0;

uint16_t load_be16(const uint8_t* p) {
    return static_cast<uint16_t>((p[0] << 8) | p[1]);
}
void store_be16(uint8_t* p, uint16_t v) {
    p[0] = static_cast<uint8_t>(v >> 8);
    p[1] = static_cast<uint8_t>(v);
}

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

const void* Socket::kind_tag() const {
    return &g_socket_tag;
}

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
        net::UnixSocket* target =
            TRY(net::UnixSocket::lookup(fs::fs_context(), fs::fs_context().cwd, to->local));
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
    uint32_t ev = inet_->poll_events();
    // A stream shut down for writing polls writable, so that a writer
    // wakes to its EPIPE (Linux's tcp_poll).
    if (shut_wr && type_ == net::kSockStream) ev |= fs::kPollWritable;
    return ev;
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
        default:
            return Error(Errno::kENOTTY);
    }
}

bool Socket::wakes_asynchronously() {
    return inet_ != nullptr && net::service_wakes();
}

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
        case 0:  // AF_UNSPEC: an AF_INET bind may use it for INADDR_ANY (net.cpp)
            if (len >= 16) {
                n.inet.port = load_be16(b + 2);
                __builtin_memcpy(n.inet.addr, b + 4, 4);
            }
            break;
        default:
            n.inet.family = n.family;
            break;
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
        default:
            full = 0;
            break;
    }
    size_t n = full < static_cast<size_t>(room) ? full : static_cast<size_t>(room);
    if (n > 0) TRY(copy_to_user(uaddr, b, n));
    return write_user<int32_t>(ulen, static_cast<int32_t>(full));
}

}  // namespace kiln::sys
