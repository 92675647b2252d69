// AF_UNIX sockets (unix.h). Semantics follow Linux's net/unix/af_unix.c as
// unix(7) documents it: a stream connect completes at once, queueing the
// server's socket in the listener's backlog; closing one end makes the
// other read end of file and write EPIPE (ECONNRESET when unread data was
// lost); a datagram socket connected to a peer only accepts datagrams
// from that peer (EPERM for others).
#include "net/unix.h"

#include "fs/file.h"
#include "fs/tree.h"
#include "kiln/format.h"
#include "mm/new.h"
#include "net/api.h"
#include "net/unix_msg.h"

namespace kiln::net {

namespace {

const char g_node_tag = 0;
UnixSocket* g_abstract = nullptr;  // bound abstract names, through abstract_next_
uint32_t g_autobind = 0;

// The inode a path-bound socket leaves in the tree; it stays after close
// (as on Linux: unlink removes it) and then refuses connections.
class UnixNode final : public fs::TreeInode {
public:
    explicit UnixNode(uint32_t mode) { fs::init_meta(this, mode); }
    fs::InodeType type() const override { return fs::InodeType::kSocket; }
    uint64_t size() const override { return 0; }
    bool seekable() const override { return false; }
    Result<size_t> read_at(uint64_t, void*, size_t) override { return Error(Errno::kENXIO); }
    Result<size_t> write_at(uint64_t, const void*, size_t) override { return Error(Errno::kENXIO); }
    const void* kind_tag() const override { return &g_node_tag; }

    UnixSocket* bound = nullptr;  // not retained: the socket clears it at close
};

bool same_name(const UnixAddr& a, const UnixAddr& b) {
    return a.len == b.len && __builtin_memcmp(a.path, b.path, a.len) == 0;
}

// A path as a C string (no NUL inside len, by construction).
void c_path(const UnixAddr& a, char (&out)[kUnixPathMax + 1]) {
    __builtin_memcpy(out, a.path, a.len);
    out[a.len] = '\0';
}

}  // namespace

UnixSocket* UnixSocket::find_abstract(const UnixAddr& a) {
    for (UnixSocket* s = g_abstract; s != nullptr; s = s->abstract_next_) {
        if (same_name(s->addr_, a)) return s;
    }
    return nullptr;
}

UnixSocket::UnixSocket(int type, const UnixCred& cred) : type_(type), cred_(cred) {}

UnixSocket::~UnixSocket() {
    purge_queue();
    unbind();
    if (peer_ != nullptr) peer_->release();
}

UnixSocket* UnixSocket::create(int type, const UnixCred& cred) {
    if (type != kSockStream && type != kSockDgram && type != kSockSeqpacket) return nullptr;
    return mm::make<UnixSocket>(type, cred);
}

Result<void> UnixSocket::pair(int type, const UnixCred& cred, UnixSocket** a, UnixSocket** b) {
    if (type != kSockStream && type != kSockDgram && type != kSockSeqpacket)
        return Error(Errno::kESOCKTNOSUPPORT);
    UnixSocket* x = create(type, cred);
    UnixSocket* y = create(type, cred);
    if (x == nullptr || y == nullptr) {
        if (x) x->release();
        if (y) y->release();
        return Error(Errno::kENOMEM);
    }
    x->peer_ = y;
    y->retain();
    y->peer_ = x;
    x->retain();
    x->state_ = y->state_ = State::kConnected;
    x->peer_cred_ = y->peer_cred_ = cred;
    x->have_peer_cred_ = y->have_peer_cred_ = true;
    *a = x;
    *b = y;
    return {};
}

Result<UnixSocket*> UnixSocket::lookup(const fs::FsContext& ctx, fs::Inode* cwd,
                                       const UnixAddr& addr) {
    if (addr.len == 0) return Error(Errno::kEINVAL);
    if (addr.abstract()) {
        UnixSocket* s = find_abstract(addr);
        if (s == nullptr) return Error(Errno::kECONNREFUSED);
        s->retain();
        return s;
    }
    char path[kUnixPathMax + 1];
    c_path(addr, path);
    fs::Inode* node = TRY(fs::resolve_existing(ctx, cwd, path, fs::kFollowLast));
    UnixSocket* s = nullptr;
    if (node->kind_tag() == &g_node_tag) s = static_cast<UnixNode*>(node)->bound;
    node->release();
    if (s == nullptr) return Error(Errno::kECONNREFUSED);
    s->retain();
    return s;
}

void UnixSocket::release() {
    if (--refs_ == 0) mm::destroy(this);
}

void UnixSocket::changed() {
    watchers_.notify(poll_events());
}

Result<void> UnixSocket::bind(const fs::FsContext& ctx, fs::Inode* cwd, const UnixAddr& addr,
                              uint32_t mode) {
    // A taken path is EADDRINUSE even for a bound socket: Linux makes the
    // inode before it looks at the socket.
    if (addr_.len != 0) {
        if (addr.len > 0 && !addr.abstract()) {
            char p[kUnixPathMax + 1];
            c_path(addr, p);
            fs::Resolved r;
            if (fs::resolve(ctx, cwd, p, 0, &r).ok() && r.node != nullptr)
                return Error(Errno::kEADDRINUSE);
        }
        return Error(Errno::kEINVAL);
    }
    UnixAddr name = addr;
    if (name.len == 0) {
        // Autobind: "\0" and five hex digits, as Linux picks them.
        for (int tries = 0;; tries++) {
            if (tries > 0xfffff) return Error(Errno::kEADDRINUSE);
            char buf[8];
            format(buf, sizeof buf, "%05x", (g_autobind++) & 0xfffff);
            name.path[0] = '\0';
            __builtin_memcpy(name.path + 1, buf, 5);
            name.len = 6;
            if (find_abstract(name) == nullptr) break;
        }
    }
    if (name.abstract()) {
        if (find_abstract(name) != nullptr) return Error(Errno::kEADDRINUSE);
        addr_ = name;
        abstract_next_ = g_abstract;
        g_abstract = this;
        return {};
    }
    char path[kUnixPathMax + 1];
    c_path(name, path);
    fs::Resolved r;
    TRY(fs::resolve(ctx, cwd, path, 0, &r));
    if (r.node != nullptr) return Error(Errno::kEADDRINUSE);
    if (r.trailing_slash) return Error(Errno::kEISDIR);
    fs::Directory* dir = r.parent != nullptr ? r.parent->as_directory() : nullptr;
    if (dir == nullptr || dir->read_only()) return Error(Errno::kEACCES);
    if (dir->removed()) return Error(Errno::kENOENT);
    auto* node = mm::make<UnixNode>(mode & 07777);
    if (node == nullptr) return Error(Errno::kENOMEM);
    if (auto added = dir->add(r.last(), node); !added.ok()) {
        node->release();
        return added;
    }
    node->bound = this;
    node_ = node;  // keeps our reference
    addr_ = name;
    return {};
}

void UnixSocket::unbind() {
    if (node_ != nullptr) {
        auto* node = static_cast<UnixNode*>(node_);
        if (node->bound == this) node->bound = nullptr;
        node_->release();
        node_ = nullptr;
    }
    if (addr_.abstract()) {
        for (UnixSocket** p = &g_abstract; *p != nullptr; p = &(*p)->abstract_next_) {
            if (*p == this) {
                *p = abstract_next_;
                break;
            }
        }
        abstract_next_ = nullptr;
    }
}

Result<void> UnixSocket::listen(int backlog) {
    if (!connected_type()) return Error(Errno::kEOPNOTSUPP);
    if (addr_.len == 0 || state_ == State::kConnected) return Error(Errno::kEINVAL);
    if (backlog < 0) backlog = 0;
    if (backlog > kUnixMaxBacklog) backlog = kUnixMaxBacklog;
    backlog_max_ = backlog;
    if (state_ != State::kListening) {
        state_ = State::kListening;
        changed();
    }
    return {};
}

bool UnixSocket::backlog_has_room() const {
    // Linux refuses once more than the backlog wait: backlog + 1 fit.
    return state_ != State::kListening || closed_ || pending_len_ <= backlog_max_;
}

Result<UnixSocket*> UnixSocket::accept() {
    if (state_ != State::kListening) return Error(Errno::kEINVAL);
    UnixSocket* s = pending_head_;
    if (s == nullptr) return Error(Errno::kEAGAIN);
    pending_head_ = s->pending_next_;
    if (pending_head_ == nullptr) pending_tail_ = nullptr;
    s->pending_next_ = nullptr;
    s->embryo_ = false;
    pending_len_--;
    changed();
    return s;
}

Result<void> UnixSocket::connect(UnixSocket* to) {
    if (type_ == kSockDgram) {
        if (to != nullptr && to->type_ != type_) return Error(Errno::kEPROTOTYPE);
        if (peer_ != nullptr) peer_->release();
        peer_ = to;
        if (to != nullptr) {
            to->retain();
            state_ = State::kConnected;
        } else {
            state_ = State::kUnconnected;
        }
        changed();
        return {};
    }
    if (state_ == State::kConnected) return Error(Errno::kEISCONN);
    if (state_ == State::kListening || to == nullptr) return Error(Errno::kEINVAL);
    if (to->type_ != type_) return Error(Errno::kEPROTOTYPE);
    if (to->state_ != State::kListening || to->closed_ || to->shut_rd_)
        return Error(Errno::kECONNREFUSED);
    if (!to->backlog_has_room()) return Error(Errno::kEAGAIN);
    UnixSocket* server = create(type_, to->cred_);
    if (server == nullptr) return Error(Errno::kENOMEM);
    // The accepted socket carries the listener's name and sees us as its
    // peer; we see the listener's credentials.
    server->addr_ = to->addr_;
    server->state_ = State::kConnected;
    server->peer_ = this;
    retain();
    server->peer_cred_ = cred_;
    server->have_peer_cred_ = true;
    peer_ = server;
    server->retain();
    peer_cred_ = to->cred_;
    have_peer_cred_ = true;
    state_ = State::kConnected;
    if (to->pending_tail_ != nullptr)
        to->pending_tail_->pending_next_ = server;
    else
        to->pending_head_ = server;
    to->pending_tail_ = server;
    server->embryo_ = true;
    to->pending_len_++;
    to->changed();
    changed();
    return {};
}

UnixSocket* UnixSocket::dest(UnixSocket* to) const {
    return to != nullptr ? to : peer_;
}

Result<void> UnixSocket::shutdown(int how) {
    // Any socket may be shut down, connected or not (Linux's
    // unix_shutdown): a listener shut for reading refuses connections.
    if (how < kShutRd || how > kShutRdWr) return Error(Errno::kEINVAL);
    const bool rd = how == kShutRd || how == kShutRdWr;
    const bool wr = how == kShutWr || how == kShutRdWr;
    if (rd) shut_rd_ = true;
    if (wr) shut_wr_ = true;
    changed();
    if (connected_type() && peer_ != nullptr && !peer_->closed_) {
        if (wr) peer_->shut_rd_ = true;
        if (rd) peer_->shut_wr_ = true;
        peer_->changed();
    }
    return {};
}

void UnixSocket::peer_gone(bool reset) {
    shut_rd_ = shut_wr_ = true;
    if (reset) error_ = static_cast<int>(Errno::kECONNRESET);
    changed();
}

void UnixSocket::close() {
    closed_ = true;
    unbind();
    // Connections nobody accepted are reset.
    while (pending_head_ != nullptr) {
        UnixSocket* s = pending_head_;
        pending_head_ = s->pending_next_;
        s->pending_next_ = nullptr;
        s->close();
    }
    pending_tail_ = nullptr;
    pending_len_ = 0;
    // Unread data, or a connection never accepted, resets the peer.
    const bool lost_data = head_ != nullptr || embryo_;
    purge_queue();
    if (peer_ != nullptr) {
        if (connected_type()) {
            peer_->peer_gone(lost_data);
        } else if (peer_->peer_ == this) {
            peer_->changed();
        }
        peer_->release();
        peer_ = nullptr;
    }
    changed();
    release();
}

Result<void> UnixSocket::peer_name(UnixAddr* out) const {
    if (peer_ == nullptr || state_ != State::kConnected) return Error(Errno::kENOTCONN);
    *out = peer_->addr_;
    return {};
}

UnixCred UnixSocket::peer_cred() const {
    if (!have_peer_cred_) return UnixCred{0, ~0u, ~0u};
    return peer_cred_;
}

uint32_t UnixSocket::poll_events() const {
    uint32_t ev = 0;
    if (state_ == State::kListening) return pending_head_ != nullptr ? fs::kPollReadable : 0;
    if (error_ != 0) ev |= fs::kPollErr;
    if (shut_rd_ && shut_wr_) ev |= fs::kPollHup;
    if (shut_rd_) ev |= fs::kPollRdHup | fs::kPollReadable;
    if (head_ != nullptr) ev |= fs::kPollReadable;
    if (connected_type()) {
        if (state_ != State::kConnected) return ev | fs::kPollHup | fs::kPollWritable;
        UnixSocket* d = peer_;
        // Writable with a quarter of the peer's queue free, as Linux's
        // unix_writable; a closed peer reads as writable (the write fails).
        if (d == nullptr || d->closed_ || d->shut_rd_ || shut_wr_ ||
            d->queue_room() >= kUnixStreamBuf / 4)
            ev |= fs::kPollWritable;
    } else {
        UnixSocket* d = peer_;
        if (d == nullptr || d->closed_ || shut_wr_ ||
            (d->rx_count_ < kUnixDgramQueue && d->queue_room() > 0))
            ev |= fs::kPollWritable;
    }
    return ev;
}

size_t UnixSocket::readable_bytes() const {
    if (message_type()) return head_ != nullptr ? head_->len : 0;
    return rx_bytes_;
}

size_t UnixSocket::unsent_bytes() const {
    if (connected_type() && peer_ != nullptr && !peer_->closed_) return peer_->rx_bytes_;
    return 0;
}

int UnixSocket::take_error() {
    int e = error_;
    error_ = 0;
    return e;
}

}  // namespace kiln::net
