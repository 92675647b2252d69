// Sockets as open files: an fs::Inode of type kSocket in front of an
// AF_UNIX socket (net/unix.h) or one of the TCP/IP stack's (net/api.h), the
// socket addresses of the ABI (sockaddr_un, sockaddr_in, sockaddr_in6) and
// the blocking send/receive/accept/connect cores (net_block.cpp) the
// socket system calls (net.cpp, net_msg.cpp, net_opts.cpp) share.
// read(2)/write(2)/sendfile(2) reach the same objects through the file
// layer (fs_common.h).
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "fs/file.h"
#include "fs/inode.h"
#include "net/api.h"
#include "net/unix.h"

namespace kiln::sys {

inline constexpr int kSockNonblock = 04000;    // SOCK_NONBLOCK (O_NONBLOCK)
inline constexpr int kSockCloexec = 02000000;  // SOCK_CLOEXEC (O_CLOEXEC)
inline constexpr int kSockRaw = 3;
inline constexpr int kMsgCtrunc = 0x8;
inline constexpr int kMsgErrqueue = 0x2000;
inline constexpr int kMsgCmsgCloexec = 0x40000000;
inline constexpr int kMsgWaitforone = 0x10000;
inline constexpr int kMsgEor = 0x80;
inline constexpr int kMsgConfirm = 0x800;
inline constexpr int kSolSocket = 1;
inline constexpr int kScmRights = 1;

// A socket address: the family's part in use.
struct SockName {
    uint16_t family = 0;  // 0 (AF_UNSPEC), kAfUnix, kAfInet, kAfInet6
    net::SockAddr inet;
    net::UnixAddr local;
};

class Socket final : public fs::Inode {
public:
    // Take over one reference / the caller's socket. nullptr on ENOMEM (the
    // socket is closed then).
    static Socket* wrap_unix(net::UnixSocket* s);
    static Socket* wrap_inet(net::Socket* s, int protocol);

    fs::InodeType type() const override { return fs::InodeType::kSocket; }
    uint64_t size() const override { return 0; }
    bool seekable() const override { return false; }
    bool may_block() const override { return true; }
    // read(2)/write(2): recv/send with no flags, never blocking here (the
    // file layer waits).
    Result<size_t> read_at(uint64_t, void* buf, size_t n) override;
    Result<size_t> write_at(uint64_t, const void* buf, size_t n) override;
    uint64_t bytes_readable(uint64_t) const override;
    uint32_t poll_events() override;
    fs::PollWatchers* poll_watchers() override;
    bool wakes_asynchronously() override;
    bool epollable() const override { return true; }
    uint64_t io_timeout_ns(bool write) const override { return write ? sndtimeo_ns : rcvtimeo_ns; }
    bool sigpipe_on_epipe() const override { return type_ == net::kSockStream; }
    // SIOCOUTQ and SIOCATMARK (SIOCINQ is FIONREAD: bytes_readable).
    Result<int64_t> ioctl(uint32_t cmd, uint64_t arg) override;
    const void* kind_tag() const override;

    int family() const { return family_; }
    int sock_type() const { return type_; }
    int protocol() const { return protocol_; }
    net::UnixSocket* local() const { return local_; }
    net::Socket* inet() const { return inet_; }

    // Non-blocking cores (EAGAIN when they would wait).
    Result<size_t> try_send(Span<const uint8_t> data, int flags, const SockName* to,
                            net::UnixRights* rights);
    Result<size_t> try_recv(Span<uint8_t> buf, int flags, SockName* from, size_t* full_len,
                            net::UnixRights* rights);
    size_t unsent_bytes() const;
    int take_error();

    // SOL_SOCKET state kept here for both kinds.
    uint64_t rcvtimeo_ns = 0;  // 0: none
    uint64_t sndtimeo_ns = 0;
    bool listening = false;
    bool connecting = false;  // a TCP connect went on in the background
    bool shut_wr = false;     // shutdown(SHUT_WR): always writable (tcp_poll)
    int opt_reuseaddr = 0, opt_reuseport = 0, opt_keepalive = 0, opt_broadcast = 0;
    int opt_passcred = 0, opt_oobinline = 0, opt_priority = 0, opt_rcvlowat = 1;
    int opt_sndbuf = 212992, opt_rcvbuf = 212992;
    int opt_linger_on = 0, opt_linger_secs = 0;

    // For mm::make only.
    Socket() = default;

protected:
    void on_last_release() override;

private:
    int family_ = 0;
    int type_ = 0;
    int protocol_ = 0;
    net::UnixSocket* local_ = nullptr;
    net::Socket* inet_ = nullptr;
};

using fs::FileHold;

// The socket behind an inode, or nullptr.
Socket* as_socket(fs::Inode* in);
// The File and socket at fd: EBADF, ENOTSOCK.
Result<Socket*> socket_of_fd(int fd, fs::File** file = nullptr);

// Installs a socket as a new descriptor (its reference moves to the
// File); flags SOCK_NONBLOCK | SOCK_CLOEXEC.
Result<int> install_socket(Socket* s, int flags);

// sockaddr parsing and writing. read_sockaddr: EINVAL for a bad length,
// EFAULT; the family is not checked against a socket here.
Result<SockName> read_sockaddr(uint64_t uaddr, uint64_t len);
// Writes `name` to uaddr with the length at ulen (in: room, out: the
// full length), as Linux truncates. uaddr 0: nothing.
Result<void> write_sockaddr(const SockName& name, uint64_t uaddr, uint64_t ulen);

// Blocking cores: wait as the file's O_NONBLOCK, MSG_DONTWAIT and the
// socket's timeouts say. send: a stream send waits until all of data is
// taken (fewer bytes only on an error after some went, or non-blocking);
// EPIPE raises SIGPIPE unless MSG_NOSIGNAL.
Result<size_t> socket_send(fs::File* f, Socket* s, Span<const uint8_t> data, int flags,
                           const SockName* to, net::UnixRights* rights);
Result<size_t> socket_recv(fs::File* f, Socket* s, Span<uint8_t> buf, int flags, SockName* from,
                           size_t* full_len, net::UnixRights* rights);
Result<Socket*> socket_accept(fs::File* f, Socket* s, SockName* peer);
Result<void> socket_connect(fs::File* f, Socket* s, const SockName& to);

// The syscall result of a blocking socket call: restarted after an
// SA_RESTART handler unless the socket has a timeout (as Linux).
int64_t socket_result(Socket* s, int64_t r, bool receiving);

}  // namespace kiln::sys
