// AF_UNIX data (unix.h): the receive queues, send and receive for the
// three socket types, and descriptors in flight (SCM_RIGHTS). A stream's
// writes coalesce into the queue's last node unless either carries
// descriptors (a read stops at such a node, so descriptors arrive with
// the bytes they were sent with); a datagram or seqpacket record is one
// node, taken whole or not at all.
#include "fs/file.h"
#include "mm/new.h"
#include "net/api.h"
#include "net/unix.h"
#include "net/unix_msg.h"

namespace kiln::net {

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

Result<size_t> UnixSocket::send(Span<const uint8_t> data, int flags, UnixSocket* to,
                                UnixRights* rights) {
    (void)flags;
    if (connected_type()) {
        if (to != nullptr)
            return Error(state_ == State::kConnected ? Errno::kEISCONN : Errno::kEOPNOTSUPP);
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
    // Nothing to send sends nothing, descriptors included (as Linux's
    // unix_stream_sendmsg: a read could not tell them from end of file).
    if (data.size() == 0) return size_t{0};
    const bool with_rights = rights != nullptr && rights->count > 0;
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
    while (done < want) {
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

Result<size_t> UnixSocket::send_dgram(Span<const uint8_t> data, UnixSocket* to,
                                      UnixRights* rights) {
    if (shut_wr_) return Error(Errno::kEPIPE);  // before the destination, as Linux
    UnixSocket* d = dest(to);
    if (d == nullptr) return Error(Errno::kENOTCONN);
    if (d->type_ != type_) return Error(Errno::kEPROTOTYPE);
    if (data.size() > kUnixDgramMax) return Error(Errno::kEMSGSIZE);
    if (d->closed_) return Error(Errno::kECONNREFUSED);
    if (d->peer_ != nullptr && d->peer_ != this) return Error(Errno::kEPERM);
    if (d->shut_rd_) return Error(Errno::kEPIPE);
    if (d->rx_count_ >= kUnixDgramQueue || d->queue_room() < data.size())
        return Error(Errno::kEAGAIN);
    return enqueue_message(d, data, rights);
}

// One message, all or nothing, on the connection.
Result<size_t> UnixSocket::send_seqpacket(Span<const uint8_t> data, UnixRights* rights) {
    if (state_ != State::kConnected) return Error(Errno::kENOTCONN);
    if (shut_wr_) return Error(Errno::kEPIPE);
    UnixSocket* d = peer_;
    if (d == nullptr || d->closed_ || d->shut_rd_) return Error(Errno::kEPIPE);
    if (data.size() > kUnixDgramMax) return Error(Errno::kEMSGSIZE);
    if (d->rx_count_ >= kUnixDgramQueue || d->queue_room() < data.size())
        return Error(Errno::kEAGAIN);
    return enqueue_message(d, data, rights);
}

Result<size_t> UnixSocket::enqueue_message(UnixSocket* d, Span<const uint8_t> data,
                                           UnixRights* rights) {
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

}  // namespace kiln::net
