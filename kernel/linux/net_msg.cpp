// The data-moving socket calls: sendto(2), recvfrom(2), sendmsg(2),
// recvmsg(2), sendmmsg(2), recvmmsg(2). Application memory is gathered
// into (and scattered from) the thread's bounce buffer, or a heap buffer
// for a datagram larger than it, so the sockets only see kernel memory.
// Ancillary data: SCM_RIGHTS on AF_UNIX sockets; anything else sent is
// ignored and nothing else is received (msg_controllen 0).
#include "arch/x86_64/clock.h"
#include "linux/fs_common.h"
#include "linux/net_socket.h"
#include "linux/timespec.h"
#include "linux/user.h"
#include "mm/heap.h"
#include "mm/new.h"

namespace kiln::sys {
namespace {

using fs::File;

int fd_arg(uint64_t v) {
    return static_cast<int>(static_cast<int32_t>(v));
}

struct IoVec {
    uint64_t base;
    uint64_t len;
};
constexpr uint64_t kIovMax = 1024;
constexpr size_t kMaxDatagram = 256 * 1024;  // larger than any socket here takes
constexpr size_t kMaxControl = 64 * 1024;

struct MsgHdr {
    uint64_t name;
    uint32_t namelen;
    uint32_t pad0;
    uint64_t iov;
    uint64_t iovlen;
    uint64_t control;
    uint64_t controllen;
    int32_t flags;
    uint32_t pad1;
};
static_assert(sizeof(MsgHdr) == 56);

struct MMsgHdr {
    MsgHdr hdr;
    uint32_t len;
    uint32_t pad;
};
static_assert(sizeof(MMsgHdr) == 64);

struct CmsgHdr {
    uint64_t len;
    int32_t level;
    int32_t type;
};
constexpr size_t cmsg_align(size_t n) {
    return (n + 7) & ~size_t{7};
}

// The application's buffers of one call, walked in order.
class UserIov {
public:
    // One buffer (send/recv) or an iovec array (the msg calls).
    void single(uint64_t base, uint64_t len) {
        one_ = IoVec{base, len};
        uiov_ = 0;
        count_ = 1;
        total_ = len > kMaxRw ? kMaxRw : len;
    }
    Result<void> vector(uint64_t uiov, uint64_t count) {
        if (count > kIovMax) return Error(Errno::kEMSGSIZE);
        uiov_ = uiov;
        count_ = count;
        uint64_t total = 0;
        for (uint64_t i = 0; i < count; i++) {
            IoVec v = TRY(entry(i));
            if (static_cast<int64_t>(v.len) < 0) return Error(Errno::kEINVAL);
            total += v.len;
            if (static_cast<int64_t>(total) < 0) return Error(Errno::kEINVAL);
        }
        total_ = total > kMaxRw ? kMaxRw : total;
        return {};
    }
    size_t total() const { return total_; }

    // Copies the next bytes in (gather) or out (scatter); stops at n or
    // at the end.
    Result<size_t> gather(uint8_t* dst, size_t n) { return walk(dst, n, false); }
    Result<size_t> scatter(const uint8_t* src, size_t n) {
        return walk(const_cast<uint8_t*>(src), n, true);
    }

private:
    Result<IoVec> entry(uint64_t i) {
        if (uiov_ == 0) return one_;
        return read_user<IoVec>(uiov_ + i * sizeof(IoVec));
    }
    Result<size_t> walk(uint8_t* k, size_t n, bool out) {
        size_t done = 0;
        while (done < n && idx_ < count_ && moved_ < total_) {
            IoVec v = TRY(entry(idx_));
            uint64_t left = v.len - off_;
            if (left > total_ - moved_) left = total_ - moved_;
            size_t c = n - done < left ? n - done : static_cast<size_t>(left);
            if (c > 0) {
                auto r = out ? copy_to_user(v.base + off_, k + done, c)
                             : copy_from_user(k + done, v.base + off_, c);
                if (!r.ok()) {
                    if (done > 0) return done;
                    return Error(r.error());
                }
            }
            done += c;
            moved_ += c;
            off_ += c;
            if (off_ >= v.len) {
                idx_++;
                off_ = 0;
            }
        }
        return done;
    }

    IoVec one_{};
    uint64_t uiov_ = 0, count_ = 0, idx_ = 0, off_ = 0;
    size_t total_ = 0, moved_ = 0;
};

// A heap buffer for a datagram that does not fit the bounce buffer.
class Buffer {
public:
    ~Buffer() { mm::heap_free(heap_); }
    Result<uint8_t*> get(size_t n) {
        if (n <= kBounceSize) return bounce();
        if (n > kMaxDatagram) n = kMaxDatagram;
        heap_ = static_cast<uint8_t*>(mm::heap_alloc(n, 16));
        if (heap_ == nullptr) return Error(Errno::kENOBUFS);
        return heap_;
    }

private:
    uint8_t* heap_ = nullptr;
};

// Descriptors of one message, released unless handed on.
struct Rights {
    net::UnixRights* r = nullptr;
    ~Rights() {
        if (r == nullptr) return;
        for (size_t i = 0; i < r->count; i++) r->files[i]->release();
        mm::destroy(r);
    }
};

// SOL_SOCKET control messages sendmsg accepts besides SCM_RIGHTS:
// SCM_CREDENTIALS on AF_UNIX; SO_MARK, SO_TIMESTAMPING and SCM_TXTIME on
// AF_INET/AF_INET6 (accepted, without effect here).
bool known_socket_cmsg(Socket* s, int type) {
    constexpr int kScmCredentials = 2, kSoMark = 36, kSoTimestamping = 37, kScmTxtime = 61;
    if (s->local() != nullptr) return type == kScmCredentials;
    return type == kSoMark || type == kSoTimestamping || type == kScmTxtime;
}

// sendmsg's control messages: SCM_RIGHTS becomes descriptors in flight.
Result<void> parse_control(Socket* s, uint64_t ucontrol, uint64_t len, Rights* out) {
    if (ucontrol == 0 || len == 0) return {};
    if (len > kMaxControl) return Error(Errno::kENOBUFS);
    auto* buf = static_cast<uint8_t*>(mm::heap_alloc(len, 16));
    if (buf == nullptr) return Error(Errno::kENOMEM);
    auto fail = [&](Errno e) {
        mm::heap_free(buf);
        return Error(e);
    };
    if (auto c = copy_from_user(buf, ucontrol, len); !c.ok()) return fail(c.error());
    for (size_t off = 0; off + sizeof(CmsgHdr) <= len;) {
        CmsgHdr h;
        __builtin_memcpy(&h, buf + off, sizeof h);
        if (h.len < sizeof(CmsgHdr) || h.len > len - off) return fail(Errno::kEINVAL);
        if (h.level == kSolSocket && h.type == kScmRights) {
            if (s->local() == nullptr) return fail(Errno::kEINVAL);
            size_t n = (h.len - sizeof(CmsgHdr)) / 4;
            if (out->r == nullptr) {
                out->r = mm::make<net::UnixRights>();
                if (out->r == nullptr) return fail(Errno::kENOMEM);
            }
            if (out->r->count + n > net::kUnixMaxFds) return fail(Errno::kEINVAL);
            for (size_t i = 0; i < n; i++) {
                int32_t fd;
                __builtin_memcpy(&fd, buf + off + sizeof(CmsgHdr) + 4 * i, 4);
                auto f = fs::file_of_fd(fd);
                if (!f.ok()) return fail(Errno::kEBADF);
                (*f)->retain();
                out->r->files[out->r->count++] = *f;
            }
        } else if (h.level == kSolSocket && !known_socket_cmsg(s, h.type)) {
            return fail(Errno::kEINVAL);  // as Linux's __scm_send / sock_cmsg_send
        }
        // SCM_CREDENTIALS (not checked), IP_PKTINFO and other levels: ignored.
        off += cmsg_align(h.len);
    }
    mm::heap_free(buf);
    return {};
}

// recvmsg's control messages: received descriptors as SCM_RIGHTS, as many
// as fit (the rest are closed: MSG_CTRUNC). Returns msg_controllen.
Result<uint64_t> write_control(uint64_t ucontrol, uint64_t len, Rights* rights, bool cloexec,
                               int* msg_flags) {
    if (rights->r == nullptr || rights->r->count == 0) return uint64_t{0};
    net::UnixRights& r = *rights->r;
    size_t fit = 0;
    if (ucontrol != 0 && len >= sizeof(CmsgHdr)) fit = (len - sizeof(CmsgHdr)) / 4;
    if (fit > r.count) fit = r.count;
    if (fit < r.count) *msg_flags |= kMsgCtrunc;
    if (fit == 0) return uint64_t{0};
    int32_t fds[net::kUnixMaxFds];
    size_t installed = 0;
    for (; installed < fit; installed++) {
        auto fd = fs::fd_table().install(r.files[installed], cloexec);
        if (!fd.ok()) {
            *msg_flags |= kMsgCtrunc;
            break;
        }
        fds[installed] = *fd;
    }
    CmsgHdr h{sizeof(CmsgHdr) + 4 * installed, kSolSocket, kScmRights};
    TRY(copy_to_user(ucontrol, &h, sizeof h));
    if (installed > 0) TRY(copy_to_user(ucontrol + sizeof h, fds, 4 * installed));
    uint64_t used = cmsg_align(sizeof(CmsgHdr) + 4 * installed);
    return used < len ? used : len;
}

bool inet_stream(Socket* s) {
    return s->inet() != nullptr && s->sock_type() == net::kSockStream;
}

// One send: the bytes of iov to `to` (or the peer).
Result<size_t> send_iov(File* f, Socket* s, UserIov& iov, int flags, const SockName* to,
                        net::UnixRights* rights) {
    const size_t total = iov.total();
    if (s->sock_type() != net::kSockStream) {
        Buffer b;
        // Too big is EMSGSIZE before the bytes are looked at, as Linux
        // (UDP's 64 KiB length field; an AF_UNIX record's limit).
        const size_t max = s->inet() != nullptr ? 0xffff : net::kUnixDgramMax;
        if (total > max) return Error(Errno::kEMSGSIZE);
        uint8_t* buf = TRY(b.get(total));
        size_t got = TRY(iov.gather(buf, total));
        return socket_send(f, s, Span<const uint8_t>(buf, got), flags, to, rights);
    }
    size_t done = 0;
    do {
        size_t chunk = total - done < kBounceSize ? total - done : kBounceSize;
        auto got = iov.gather(bounce(), chunk);
        if (!got.ok()) {
            if (done > 0) break;
            return Error(got.error());
        }
        auto r = socket_send(f, s, Span<const uint8_t>(bounce(), *got), flags, to, rights);
        if (!r.ok()) {
            if (done > 0) break;
            return r;
        }
        done += *r;
        if (*r < *got) break;
    } while (done < total);
    return done;
}

// One receive into iov; *msg_flags gets MSG_TRUNC for a cut datagram.
// Returns the bytes received (a datagram's full length with MSG_TRUNC).
Result<size_t> recv_iov(File* f, Socket* s, UserIov& iov, int flags, SockName* from,
                        net::UnixRights* rights, int* msg_flags) {
    const size_t total = iov.total();
    if (flags & kMsgErrqueue) return Error(Errno::kEAGAIN);  // no error queue here
    if (s->sock_type() != net::kSockStream) {
        Buffer b;
        uint8_t* buf = TRY(b.get(total));
        size_t cap = total < kMaxDatagram ? total : kMaxDatagram;
        size_t full = 0;
        size_t got = TRY(socket_recv(f, s, Span<uint8_t>(buf, cap), flags, from, &full, rights));
        TRY(iov.scatter(buf, got));
        if (full > got) *msg_flags |= net::kMsgTrunc;
        return (flags & net::kMsgTrunc) ? full : got;
    }
    const bool waitall = (flags & net::kMsgWaitAll) && !(flags & net::kMsgPeek);
    size_t done = 0;
    do {
        size_t chunk = total - done < kBounceSize ? total - done : kBounceSize;
        auto r = socket_recv(f, s, Span<uint8_t>(bounce(), chunk), flags, from, nullptr, rights);
        if (!r.ok()) {
            if (done > 0) break;
            return r;
        }
        auto w = iov.scatter(bounce(), *r);
        if (!w.ok()) {
            if (done > 0) break;
            return w;
        }
        done += *r;
        if (*r < chunk || !waitall || *r == 0) break;
        rights = nullptr;  // descriptors come with the first part only
    } while (done < total);
    return done;
}

int64_t do_sendto(const SyscallArgs& a) {
    File* f;
    Socket* s = TRY_SYS(socket_of_fd(fd_arg(a.arg[0]), &f));
    FileHold hold(f);
    int flags = fd_arg(a.arg[3]);
    UserIov iov;
    iov.single(a.arg[1], a.arg[2]);
    SockName to;
    const bool named = a.arg[4] != 0 && !inet_stream(s);  // TCP ignores the address
    if (named) to = TRY_SYS(read_sockaddr(a.arg[4], a.arg[5]));
    auto r = send_iov(f, s, iov, flags, named ? &to : nullptr, nullptr);
    return socket_result(s, to_syscall_result(r), false);
}

int64_t do_recvfrom(const SyscallArgs& a) {
    File* f;
    Socket* s = TRY_SYS(socket_of_fd(fd_arg(a.arg[0]), &f));
    FileHold hold(f);
    int flags = fd_arg(a.arg[3]);
    UserIov iov;
    iov.single(a.arg[1], a.arg[2]);
    SockName from;  // family 0: no address (a TCP stream gives none, as Linux)
    int msg_flags = 0;
    auto r = recv_iov(f, s, iov, flags, a.arg[4] != 0 && !inet_stream(s) ? &from : nullptr, nullptr,
                      &msg_flags);
    if (!r.ok()) return socket_result(s, errno_result(r.error()), true);
    if (a.arg[4] != 0) TRY_SYS(write_sockaddr(from, a.arg[4], a.arg[5]));
    return static_cast<int64_t>(*r);
}

// sendmsg for one msghdr already read.
Result<size_t> send_one(File* f, Socket* s, const MsgHdr& m, int flags) {
    UserIov iov;
    TRY(iov.vector(m.iov, m.iovlen));
    SockName to;
    const bool named = m.name != 0 && m.namelen != 0 && !inet_stream(s);
    if (named) to = TRY(read_sockaddr(m.name, m.namelen));
    Rights rights;
    TRY(parse_control(s, m.control, m.controllen, &rights));
    return send_iov(f, s, iov, flags, named ? &to : nullptr, rights.r);
}

// recvmsg for one msghdr at umsg (already read into m); writes back
// msg_namelen, msg_controllen and msg_flags.
Result<size_t> recv_one(File* f, Socket* s, uint64_t umsg, MsgHdr& m, int flags) {
    UserIov iov;
    TRY(iov.vector(m.iov, m.iovlen));
    Rights rights;
    if (s->local() != nullptr) {
        rights.r = mm::make<net::UnixRights>();
        if (rights.r == nullptr) return Error(Errno::kENOMEM);
    }
    SockName from;
    int msg_flags = 0;
    size_t n = TRY(recv_iov(f, s, iov, flags, m.name != 0 && !inet_stream(s) ? &from : nullptr,
                            rights.r, &msg_flags));
    if (m.name != 0) {
        // msg_namelen is value-result inside the header.
        TRY(write_sockaddr(from, m.name, umsg + __builtin_offsetof(MsgHdr, namelen)));
    }
    // Installed descriptors hold references of their own; ours go with
    // `rights` (closing those that did not fit).
    uint64_t clen =
        TRY(write_control(m.control, m.controllen, &rights, flags & kMsgCmsgCloexec, &msg_flags));
    TRY(write_user<uint64_t>(umsg + __builtin_offsetof(MsgHdr, controllen), clen));
    TRY(write_user<int32_t>(umsg + __builtin_offsetof(MsgHdr, flags), msg_flags));
    return n;
}

}  // namespace

int64_t sys_sendto(const SyscallArgs& a) {
    return do_sendto(a);
}
int64_t sys_recvfrom(const SyscallArgs& a) {
    return do_recvfrom(a);
}

int64_t sys_sendmsg(const SyscallArgs& a) {
    File* f;
    Socket* s = TRY_SYS(socket_of_fd(fd_arg(a.arg[0]), &f));
    FileHold hold(f);
    MsgHdr m = TRY_SYS(read_user<MsgHdr>(a.arg[1]));
    auto r = send_one(f, s, m, fd_arg(a.arg[2]));
    return socket_result(s, to_syscall_result(r), false);
}

int64_t sys_recvmsg(const SyscallArgs& a) {
    File* f;
    Socket* s = TRY_SYS(socket_of_fd(fd_arg(a.arg[0]), &f));
    FileHold hold(f);
    MsgHdr m = TRY_SYS(read_user<MsgHdr>(a.arg[1]));
    auto r = recv_one(f, s, a.arg[1], m, fd_arg(a.arg[2]));
    return socket_result(s, to_syscall_result(r), true);
}

int64_t sys_sendmmsg(const SyscallArgs& a) {
    File* f;
    Socket* s = TRY_SYS(socket_of_fd(fd_arg(a.arg[0]), &f));
    FileHold hold(f);
    uint64_t vlen = a.arg[2] > kIovMax ? kIovMax : a.arg[2];
    const int flags = fd_arg(a.arg[3]);
    uint64_t i = 0;
    for (; i < vlen; i++) {
        const uint64_t um = a.arg[1] + i * sizeof(MMsgHdr);
        auto m = read_user<MsgHdr>(um);
        if (!m.ok()) {
            if (i > 0) break;
            return errno_result(m.error());
        }
        auto r = send_one(f, s, *m, flags);
        if (!r.ok()) {
            if (i > 0) break;
            return socket_result(s, errno_result(r.error()), false);
        }
        if (auto w = write_user<uint32_t>(um + sizeof(MsgHdr), static_cast<uint32_t>(*r)); !w.ok())
            break;
    }
    return static_cast<int64_t>(i);
}

int64_t sys_recvmmsg(const SyscallArgs& a) {
    File* f;
    Socket* s = TRY_SYS(socket_of_fd(fd_arg(a.arg[0]), &f));
    FileHold hold(f);
    uint64_t vlen = a.arg[2] > kIovMax ? kIovMax : a.arg[2];
    int flags = fd_arg(a.arg[3]);
    uint64_t deadline = 0;
    if (a.arg[4] != 0) {
        auto ts = TRY_SYS(read_user<KernelTimespec>(a.arg[4]));
        if (ts.tv_sec < 0 || ts.tv_nsec < 0 || ts.tv_nsec >= kNsPerSec)
            return errno_result(Errno::kEINVAL);
        deadline = arch::monotonic_ns() + static_cast<uint64_t>(ts.tv_sec) * kNsPerSec +
                   static_cast<uint64_t>(ts.tv_nsec);
    }
    uint64_t i = 0;
    for (; i < vlen; i++) {
        const uint64_t um = a.arg[1] + i * sizeof(MMsgHdr);
        auto m = read_user<MsgHdr>(um);
        if (!m.ok()) {
            if (i > 0) break;
            return errno_result(m.error());
        }
        auto r = recv_one(f, s, um, *m, flags);
        if (!r.ok()) {
            if (i > 0) break;
            return socket_result(s, errno_result(r.error()), true);
        }
        if (auto w = write_user<uint32_t>(um + sizeof(MsgHdr), static_cast<uint32_t>(*r)); !w.ok())
            break;
        if (flags & kMsgWaitforone) flags |= net::kMsgDontWait;
        // The timeout is checked after each datagram, as Linux does.
        if (deadline != 0 && arch::monotonic_ns() >= deadline) {
            i++;
            break;
        }
    }
    return static_cast<int64_t>(i);
}

}  // namespace kiln::sys
