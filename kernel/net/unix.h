// AF_UNIX sockets (unix(7)): stream, datagram and seqpacket sockets inside
// the guest,
// socketpair(2), names in the file system (a socket inode in the tree) and
// in the abstract namespace (a leading NUL), listen/accept/connect,
// shutdown, SO_PEERCRED and SCM_RIGHTS.
//
// Like the TCP/IP stack (api.h) nothing here blocks or touches user
// memory: a call that would wait answers EAGAIN and the socket layer
// (kernel/linux/net*.cpp) waits on watchers() and asks again. Pure: built
// into the kernel and into the host unit tests.
//
// Buffers are bounded: a stream socket's receive queue holds kUnixStreamBuf
// bytes, a datagram socket's kUnixDgramQueue datagrams (and as many bytes).
// Data lives in the receiver's queue; a writer is writable while its
// peer's queue has room.
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "fs/path.h"
#include "fs/poll.h"
#include "kiln/result.h"
#include "kiln/span.h"
#include "net/api.h"

namespace kiln::fs {
class File;
}

namespace kiln::net {

inline constexpr int kSockSeqpacket = 5;     // connected, message boundaries kept
inline constexpr size_t kUnixPathMax = 108;  // sizeof(sun_path)
inline constexpr size_t kUnixStreamBuf = 256 * 1024;
inline constexpr size_t kUnixDgramQueue = 64;
inline constexpr size_t kUnixDgramMax = 212992 - 32;  // Linux's default wmem_max less a header
inline constexpr size_t kUnixMaxFds = 253;            // SCM_MAX_FD
inline constexpr int kUnixMaxBacklog = 4096;          // SOMAXCONN

// A socket's name: sun_path's bytes that count. len 0 is unnamed; a name
// whose first byte is NUL is abstract (every byte counts), otherwise it is
// a path (no NUL inside len).
struct UnixAddr {
    uint8_t len = 0;
    char path[kUnixPathMax] = {};

    bool abstract() const { return len > 0 && path[0] == '\0'; }
};

// SO_PEERCRED's struct ucred.
struct UnixCred {
    int32_t pid = 0;
    uint32_t uid = 0;
    uint32_t gid = 0;
};

// Descriptors in flight (SCM_RIGHTS): open file descriptions, one
// reference each, owned by whoever holds the array.
struct UnixRights {
    fs::File* files[kUnixMaxFds];
    size_t count = 0;
};

class UnixSocket {
public:
    // type kSockStream, kSockDgram or kSockSeqpacket; nullptr when out of
    // memory (or for another type).
    static UnixSocket* create(int type, const UnixCred& cred);
    // socketpair(2): two connected sockets (each with one reference).
    static Result<void> pair(int type, const UnixCred& cred, UnixSocket** a, UnixSocket** b);
    // The socket bound to addr, retained (release() it). ENOENT for a
    // missing path, ECONNREFUSED for a name nothing is bound to (a socket
    // inode left behind, or an abstract name not in use), ENOTDIR etc. as
    // path resolution gives them.
    static Result<UnixSocket*> lookup(const fs::FsContext& ctx, fs::Inode* cwd,
                                      const UnixAddr& addr);

    int type() const { return type_; }

    // Binds to a path (a new socket inode with permission bits `mode`; the
    // path must not exist: EADDRINUSE) or an abstract name (EADDRINUSE when
    // taken). An empty addr autobinds to a fresh abstract name. EINVAL when
    // already bound.
    Result<void> bind(const fs::FsContext& ctx, fs::Inode* cwd, const UnixAddr& addr,
                      uint32_t mode);
    // Stream sockets only (EOPNOTSUPP); EINVAL unbound or connected. A
    // second call changes the backlog.
    Result<void> listen(int backlog);
    // A connection the listener queued (the caller owns its reference);
    // EAGAIN when none is queued, EINVAL when not listening.
    Result<UnixSocket*> accept();
    // Stream: connects to a listener at once (the server's socket waits in
    // its backlog): EAGAIN when the backlog is full, ECONNREFUSED when
    // `to` does not listen, EISCONN, EPROTOTYPE. Datagram: sets the
    // default destination (to == nullptr dissolves it).
    Result<void> connect(UnixSocket* to);

    // Sends data (to `to` for unconnected datagram sockets, else the peer).
    // rights: descriptors to pass (taken over on success: the array is
    // emptied; left with the caller on error). Returns how much was taken:
    // streams may take part, datagrams all or nothing (EMSGSIZE when too
    // big). EAGAIN when no room, EPIPE after shutdown or a closed peer,
    // ENOTCONN, EDESTADDRREQ, ECONNREFUSED (a closed datagram peer),
    // EPERM (the destination is connected to someone else), EISCONN.
    Result<size_t> send(Span<const uint8_t> data, int flags, UnixSocket* to, UnixRights* rights);
    // Receives into buf: streams read across queued writes (stopping at
    // ones that carry descriptors), datagrams one per call with *full_len
    // its length. 0 at end of stream; EAGAIN when nothing is there. from
    // and rights (descriptors received, the caller owns them) may be null
    // (descriptors then are closed). flags: kMsgPeek.
    Result<size_t> recv(Span<uint8_t> buf, int flags, UnixAddr* from, size_t* full_len,
                        UnixRights* rights);
    Result<void> shutdown(int how);
    // The caller's last reference: unbinds, drops what is queued, tells
    // the peer (end of file / EPIPE), and releases.
    void close();

    void retain() { refs_++; }
    void release();

    const UnixAddr& local_name() const { return addr_; }
    Result<void> peer_name(UnixAddr* out) const;  // ENOTCONN
    // SO_PEERCRED: the peer's at connect time (the listener's at listen);
    // pid 0 and ids -1 when there is none, as Linux.
    UnixCred peer_cred() const;
    bool listening() const { return state_ == State::kListening; }

    uint32_t poll_events() const;
    fs::PollWatchers& watchers() { return watchers_; }
    size_t readable_bytes() const;
    size_t unsent_bytes() const;  // bytes sent that the peer has not read (SIOCOUTQ)
    int take_error();
    // Whether a send could take `n` bytes now (the waiting side asks).
    bool can_send(UnixSocket* to, size_t n) const;
    // Whether a connect() to this listener would find backlog room.
    bool backlog_has_room() const;

    // For mm::make/destroy only.
    UnixSocket(int type, const UnixCred& cred);
    ~UnixSocket();

private:
    enum class State : uint8_t { kUnconnected, kListening, kConnected };
    struct Msg;

    static UnixSocket* find_abstract(const UnixAddr& a);
    void changed();
    UnixSocket* dest(UnixSocket* to) const;
    Result<size_t> send_stream(Span<const uint8_t> data, UnixRights* rights);
    Result<size_t> send_dgram(Span<const uint8_t> data, UnixSocket* to, UnixRights* rights);
    Result<size_t> send_seqpacket(Span<const uint8_t> data, UnixRights* rights);
    Result<size_t> enqueue_message(UnixSocket* d, Span<const uint8_t> data, UnixRights* rights);
    // Stream and seqpacket sockets connect; datagram and seqpacket ones
    // keep message boundaries.
    bool connected_type() const { return type_ != kSockDgram; }
    bool message_type() const { return type_ != kSockStream; }
    size_t queue_room() const;
    void purge_queue();
    void peer_gone(bool reset);
    void unbind();

    int type_;
    State state_ = State::kUnconnected;
    bool shut_rd_ = false, shut_wr_ = false;  // sk_shutdown: RCV_SHUTDOWN, SEND_SHUTDOWN
    bool closed_ = false;
    bool embryo_ = false;  // in a listener's backlog, not accepted yet
    int error_ = 0;
    uint32_t refs_ = 1;
    UnixAddr addr_;
    fs::Inode* node_ = nullptr;   // the path's socket inode (retained)
    UnixSocket* peer_ = nullptr;  // retained
    UnixCred cred_;               // ours, as the peer sees it
    UnixCred peer_cred_;
    bool have_peer_cred_ = false;
    // Receive queue.
    Msg* head_ = nullptr;
    Msg* tail_ = nullptr;
    size_t rx_bytes_ = 0;
    size_t rx_count_ = 0;
    // Listening: server sides of connections, not yet accepted (each
    // holds its one reference while queued), linked through pending_next_.
    UnixSocket* pending_head_ = nullptr;
    UnixSocket* pending_tail_ = nullptr;
    UnixSocket* pending_next_ = nullptr;
    int pending_len_ = 0, backlog_max_ = 0;
    UnixSocket* abstract_next_ = nullptr;  // in the abstract namespace's list
    fs::PollWatchers watchers_;
};

}  // namespace kiln::net
