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

namespace kiln::net {

// One write (stream: bytes from writes without descriptors coalesce) or
// one datagram, with the bytes after the header.
struct UnixSocket::Msg {
    Msg* next = nullptr;
    size_t len = 0;  // bytes stored
    size_t off = 0;  // bytes already read (streams)
    size_t cap = 0;
    fs::File** files = nullptr;
    size_t nfiles = 0;
    UnixAddr from;

    uint8_t* data() { return reinterpret_cast<uint8_t*>(this + 1); }
};

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
    if (type != kSockStream && type != kSockDgram && type != kSockSeqpacket) return Error(Errno::kESOCKTNOSUPPORT);
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

Result<UnixSocket*> UnixSocket::lookup(const fs::FsContext& ctx, fs::Inode* cwd, const UnixAddr& addr) {
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

void UnixSocket::changed() { watchers_.notify(poll_events()); }

Result<void> UnixSocket::bind(const fs::FsContext& ctx, fs::Inode* cwd, const UnixAddr& addr,
                              uint32_t mode) {
    if (addr_.len != 0) return Error(Errno::kEINVAL);
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
    if (to->state_ != State::kListening || to->closed_) return Error(Errno::kECONNREFUSED);
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

UnixSocket* UnixSocket::dest(UnixSocket* to) const { return to != nullptr ? to : peer_; }

size_t UnixSocket::queue_room() const {
    if (message_type() && rx_count_ >= kUnixDgramQueue) return 0;
    return rx_bytes_ < kUnixStreamBuf ? kUnixStreamBuf - rx_bytes_ : 0;
}

bool UnixSocket::can_send(UnixSocket* to, size_t n) const {
    if (shut_wr_) return true;  // the send reports EPIPE
    UnixSocket* d = connected_type() ? peer_ : dest(to);
    if (d == nullptr || d->closed_ || d->shut_rd_) return true;
    if (type_ == kSockStream) return d->queue_room() > 0;
    return d->queue_room() >= n && d->rx_count_ < kUnixDgramQueue;
}

Result<size_t> UnixSocket::send(Span<const uint8_t> data, int flags, UnixSocket* to, UnixRights* rights) {
    (void)flags;
    if (connected_type()) {
        if (to != nullptr) return Error(state_ == State::kConnected ? Errno::kEISCONN : Errno::kEOPNOTSUPP);
        return type_ == kSockStream ? send_stream(data, rights) : send_seqpacket(data, rights);
    }
    return send_dgram(data, to, rights);
}

namespace {

// Moves the descriptors of `rights` into a heap array for a message.
Result<void> take_rights(UnixRights* rights, fs::File*** files, size_t* n) {
    *files = nullptr;
    *n = 0;
    if (rights == nullptr || rights->count == 0) return {};
    auto* arr = static_cast<fs::File**>(mm::heap_alloc(rights->count * sizeof(fs::File*)));
    if (arr == nullptr) return Error(Errno::kENOMEM);
    for (size_t i = 0; i < rights->count; i++) arr[i] = rights->files[i];
    *files = arr;
    *n = rights->count;
    rights->count = 0;
    return {};
}

}  // namespace

Result<size_t> UnixSocket::send_stream(Span<const uint8_t> data, UnixRights* rights) {
    if (state_ != State::kConnected) return Error(Errno::kENOTCONN);
    if (shut_wr_) return Error(Errno::kEPIPE);
    UnixSocket* d = peer_;
    if (d == nullptr || d->closed_ || d->shut_rd_) return Error(Errno::kEPIPE);
    const bool with_rights = rights != nullptr && rights->count > 0;
    if (data.size() == 0 && !with_rights) return size_t{0};
    size_t room = d->queue_room();
    if (room == 0) return Error(Errno::kEAGAIN);
    size_t want = data.size() < room ? data.size() : room;
    size_t done = 0;
    // Coalesce into the last write when neither carries descriptors.
    Msg* t = d->tail_;
    if (!with_rights && t != nullptr && t->nfiles == 0 && t->cap > t->len) {
        size_t n = t->cap - t->len < want ? t->cap - t->len : want;
        __builtin_memcpy(t->data() + t->len, data.data(), n);
        t->len += n;
        done = n;
    }
    bool first = true;
    while (done < want || (first && with_rights && want == 0)) {
        size_t rest = want - done;
        size_t cap = rest < 4096 ? 4096 : (rest > 65536 ? 65536 : rest);
        void* mem = mm::heap_alloc(sizeof(Msg) + cap);
        if (mem == nullptr) {
            if (done > 0) break;
            return Error(Errno::kENOBUFS);
        }
        Msg* m = new (mem) Msg;
        m->cap = cap;
        size_t n = rest < cap ? rest : cap;
        __builtin_memcpy(m->data(), data.data() + done, n);
        m->len = n;
        if (first && with_rights) {
            if (auto r = take_rights(rights, &m->files, &m->nfiles); !r.ok()) {
                mm::heap_free(mem);
                if (done > 0) break;
                return Error(r.error());
            }
        }
        first = false;
        if (d->tail_ != nullptr)
            d->tail_->next = m;
        else
            d->head_ = m;
        d->tail_ = m;
        d->rx_count_++;
        done += n;
    }
    d->rx_bytes_ += done;
    d->changed();
    return done;
}

Result<size_t> UnixSocket::send_dgram(Span<const uint8_t> data, UnixSocket* to, UnixRights* rights) {
    UnixSocket* d = dest(to);
    if (d == nullptr) return Error(Errno::kENOTCONN);
    if (shut_wr_) return Error(Errno::kEPIPE);
    if (data.size() > kUnixDgramMax) return Error(Errno::kEMSGSIZE);
    if (d->closed_) return Error(Errno::kECONNREFUSED);
    if (d->peer_ != nullptr && d->peer_ != this) return Error(Errno::kEPERM);
    if (d->shut_rd_) return Error(Errno::kEPIPE);
    if (d->rx_count_ >= kUnixDgramQueue || d->queue_room() < data.size()) return Error(Errno::kEAGAIN);
    return enqueue_message(d, data, rights);
}

// One message, all or nothing, on the connection.
Result<size_t> UnixSocket::send_seqpacket(Span<const uint8_t> data, UnixRights* rights) {
    if (state_ != State::kConnected) return Error(Errno::kENOTCONN);
    if (shut_wr_) return Error(Errno::kEPIPE);
    UnixSocket* d = peer_;
    if (d == nullptr || d->closed_ || d->shut_rd_) return Error(Errno::kEPIPE);
    if (data.size() > kUnixDgramMax) return Error(Errno::kEMSGSIZE);
    if (d->rx_count_ >= kUnixDgramQueue || d->queue_room() < data.size()) return Error(Errno::kEAGAIN);
    return enqueue_message(d, data, rights);
}

Result<size_t> UnixSocket::enqueue_message(UnixSocket* d, Span<const uint8_t> data, UnixRights* rights) {
    void* mem = mm::heap_alloc(sizeof(Msg) + data.size());
    if (mem == nullptr) return Error(Errno::kENOBUFS);
    Msg* m = new (mem) Msg;
    m->cap = m->len = data.size();
    if (data.size() > 0) __builtin_memcpy(m->data(), data.data(), data.size());
    m->from = addr_;
    if (auto r = take_rights(rights, &m->files, &m->nfiles); !r.ok()) {
        mm::heap_free(mem);
        return Error(r.error());
    }
    if (d->tail_ != nullptr)
        d->tail_->next = m;
    else
        d->head_ = m;
    d->tail_ = m;
    d->rx_count_++;
    d->rx_bytes_ += data.size();
    d->changed();
    return data.size();
}

namespace {

// Hands a message's descriptors to the receiver (or closes them when it
// has no room); a peek hands out extra references instead.
void give_rights(fs::File** files, size_t n, bool peek, UnixRights* out) {
    for (size_t i = 0; i < n; i++) {
        if (out != nullptr && out->count < kUnixMaxFds) {
            if (peek) files[i]->retain();
            out->files[out->count++] = files[i];
        } else if (!peek) {
            files[i]->release();
        }
    }
}

}  // namespace

Result<size_t> UnixSocket::recv(Span<uint8_t> buf, int flags, UnixAddr* from, size_t* full_len,
                                UnixRights* rights) {
    const bool peek = flags & kMsgPeek;
    if (connected_type() && state_ != State::kConnected) return Error(Errno::kEINVAL);
    if (head_ == nullptr) {
        if (error_ != 0) return Error(static_cast<Errno>(take_error()));
        if (shut_rd_) return size_t{0};
        return Error(Errno::kEAGAIN);
    }
    if (message_type()) {
        Msg* m = head_;
        size_t n = buf.size() < m->len ? buf.size() : m->len;
        if (n > 0) __builtin_memcpy(buf.data(), m->data(), n);
        if (full_len != nullptr) *full_len = m->len;
        if (from != nullptr) *from = m->from;
        give_rights(m->files, m->nfiles, peek, rights);
        if (!peek) {
            head_ = m->next;
            if (head_ == nullptr) tail_ = nullptr;
            rx_count_--;
            rx_bytes_ -= m->len;
            mm::heap_free(m->files);
            m->~Msg();
            mm::heap_free(m);
            changed();
            if (peer_ != nullptr && !peer_->closed_) peer_->changed();
        }
        return n;
    }
    if (buf.size() == 0) return size_t{0};
    size_t done = 0;
    Msg* m = head_;
    while (m != nullptr && done < buf.size()) {
        if (m->nfiles > 0 && done > 0) break;  // descriptors start a new read
        size_t avail = m->len - m->off;
        size_t n = buf.size() - done < avail ? buf.size() - done : avail;
        __builtin_memcpy(buf.data() + done, m->data() + m->off, n);
        done += n;
        const bool had_files = m->nfiles > 0;
        if (had_files) {
            give_rights(m->files, m->nfiles, peek, rights);
            if (!peek) {
                mm::heap_free(m->files);
                m->files = nullptr;
                m->nfiles = 0;
            }
        }
        if (peek) {
            if (n < avail) break;
            m = m->next;
        } else {
            m->off += n;
            rx_bytes_ -= n;
            if (m->off == m->len) {
                head_ = m->next;
                if (head_ == nullptr) tail_ = nullptr;
                rx_count_--;
                m->~Msg();
                mm::heap_free(m);
                m = head_;
            }
        }
        if (had_files) break;
    }
    if (!peek) {
        changed();
        if (peer_ != nullptr && !peer_->closed_) peer_->changed();
    }
    if (from != nullptr && peer_ != nullptr) *from = peer_->addr_;
    return done;
}

Result<void> UnixSocket::shutdown(int how) {
    if (how < kShutRd || how > kShutRdWr) return Error(Errno::kEINVAL);
    if (connected_type() && state_ != State::kConnected) return Error(Errno::kENOTCONN);
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

void UnixSocket::purge_queue() {
    while (head_ != nullptr) {
        Msg* m = head_;
        head_ = m->next;
        for (size_t i = 0; i < m->nfiles; i++) m->files[i]->release();
        mm::heap_free(m->files);
        m->~Msg();
        mm::heap_free(m);
    }
    tail_ = nullptr;
    rx_bytes_ = rx_count_ = 0;
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
