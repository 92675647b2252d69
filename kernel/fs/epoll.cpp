// epoll(7) instances (epoll.h). Rules from epoll_ctl(2): EEXIST/ENOENT by
// (fd, open file), EPERM for files that do not support poll, EINVAL for
// adding an instance to itself, EPOLLEXCLUSIVE with MOD, with EPOLLONESHOT
// or the like, or on an instance, ELOOP for cycles
// or more than EP_MAX_NESTS (4) levels below the outermost instance.
// EPOLLERR and EPOLLHUP are always reported.
#include "fs/epoll.h"

#include "mm/new.h"

namespace kiln::fs {

namespace {
constexpr uint32_t kPrivateBits = kEpollEt | kEpollOneshot | kEpollWakeup | kEpollExclusive;
constexpr uint32_t kAlways = kPollErr | kPollHup;
constexpr int kMaxNests = 4;
}  // namespace

struct Epoll::Item {
    PollWatcher watch;  // first: item_notified casts back
    FileCloseHook close;
    Epoll* ep = nullptr;
    File* file = nullptr;  // not retained: the close hook ends the item first
    Inode* inode = nullptr;
    int fd = -1;
    uint32_t events = 0;  // interest and flags; 0 once a ONESHOT item fired
    uint64_t data = 0;
    bool queued = false;
    Item* rnext = nullptr;  // ready list
    Item* next = nullptr;   // interest list (doubly linked)
    Item* prev = nullptr;
    Item* hnext = nullptr;  // hash chain by fd

    uint32_t interest() const { return (events & ~kPrivateBits) | (events ? kAlways : 0); }
};

Epoll::Epoll() {
    init_meta(this, 0600);
}

Epoll::~Epoll() {
    while (items_ != nullptr) remove(items_);
    mm::heap_free(buckets_);
}

// Items are found by fd through a chained hash table (servers add and
// delete one item per connection), doubled when it averages two per chain.
size_t Epoll::bucket_of(int fd) const {
    return static_cast<uint32_t>(fd) & (nbuckets_ - 1);
}

Epoll::Item* Epoll::find(int fd, File* file) const {
    if (buckets_ == nullptr) return nullptr;
    for (Item* it = buckets_[bucket_of(fd)]; it != nullptr; it = it->hnext) {
        if (it->fd == fd && it->file == file) return it;
    }
    return nullptr;
}

Result<void> Epoll::grow() {
    size_t n = nbuckets_ == 0 ? 16 : nbuckets_ * 2;
    auto** b = static_cast<Item**>(mm::heap_alloc(n * sizeof(Item*), alignof(Item*)));
    if (b == nullptr) return Error(Errno::kENOMEM);
    for (size_t i = 0; i < n; i++) b[i] = nullptr;
    mm::heap_free(buckets_);
    buckets_ = b;
    nbuckets_ = n;
    for (Item* it = items_; it != nullptr; it = it->next) {
        size_t k = bucket_of(it->fd);
        it->hnext = buckets_[k];
        buckets_[k] = it;
    }
    return {};
}

size_t Epoll::item_count() const {
    return count_;
}

void Epoll::enqueue(Item* it) {
    if (it->queued) return;
    it->queued = true;
    it->rnext = nullptr;
    if (ready_tail_ != nullptr)
        ready_tail_->rnext = it;
    else
        ready_head_ = it;
    ready_tail_ = it;
    watchers_.notify(kPollReadable);
}

void Epoll::unqueue(Item* it) {
    if (!it->queued) return;
    Item* prev = nullptr;
    for (Item* p = ready_head_; p != nullptr; prev = p, p = p->rnext) {
        if (p != it) continue;
        if (prev != nullptr)
            prev->rnext = p->rnext;
        else
            ready_head_ = p->rnext;
        if (ready_tail_ == p) ready_tail_ = prev;
        break;
    }
    it->queued = false;
    it->rnext = nullptr;
}

void Epoll::remove(Item* it) {
    unqueue(it);
    if (it->prev != nullptr)
        it->prev->next = it->next;
    else
        items_ = it->next;
    if (it->next != nullptr) it->next->prev = it->prev;
    for (Item** p = &buckets_[bucket_of(it->fd)]; *p != nullptr; p = &(*p)->hnext) {
        if (*p == it) {
            *p = it->hnext;
            break;
        }
    }
    count_--;
    if (PollWatchers* w = it->inode->poll_watchers()) w->remove(&it->watch);
    if (it->file != nullptr) it->file->remove_close_hook(&it->close);
    mm::destroy(it);
}

void Epoll::item_notified(PollWatcher* w, uint32_t events) {
    // SAFETY: watch is the first member of Item (standard layout), and only
    // Items register item_notified.
    Item* it = reinterpret_cast<Item*>(w);
    if (events != 0 && !(events & it->interest())) return;
    if (it->interest() == 0) return;  // a ONESHOT item waiting for MOD
    it->ep->enqueue(it);
}

void Epoll::item_file_closed(FileCloseHook* h) {
    // SAFETY: close sits at a fixed offset in Item; only Items register it.
    Item* it =
        reinterpret_cast<Item*>(reinterpret_cast<char*>(h) - __builtin_offsetof(Item, close));
    it->file = nullptr;  // the File is going away; do not touch its hook list
    it->ep->remove(it);
}

// Whether target is this instance or holds it, directly or below.
bool Epoll::reaches(Epoll* target, int depth) const {
    if (target == this) return true;
    if (depth > kMaxNests) return true;
    for (Item* it = target->items_; it != nullptr; it = it->next) {
        Epoll* e = it->inode->as_epoll();
        if (e != nullptr && reaches(e, depth + 1)) return true;
    }
    return false;
}

// Levels of epoll instances inside this one.
int Epoll::depth_below() const {
    int d = 0;
    for (Item* it = items_; it != nullptr; it = it->next) {
        Epoll* e = it->inode->as_epoll();
        if (e != nullptr) {
            int sub = 1 + e->depth_below();
            if (sub > d) d = sub;
        }
    }
    return d;
}

Result<void> Epoll::ctl(int op, int fd, File* file, uint32_t events, uint64_t data) {
    Inode* target = file->inode();
    if (op != kEpollCtlAdd && op != kEpollCtlDel && op != kEpollCtlMod)
        return Error(Errno::kEINVAL);
    if (!target->epollable()) return Error(Errno::kEPERM);
    if (target == this) return Error(Errno::kEINVAL);
    Item* it = find(fd, file);
    switch (op) {
        case kEpollCtlAdd: {
            if (events & kEpollExclusive) {
                // epoll_ctl(2): EPOLLEXCLUSIVE goes with few other bits and
                // never on an epoll instance.
                constexpr uint32_t kExclusiveOk = kPollIn | kPollOut | kPollErr | kPollHup |
                                                  kEpollWakeup | kEpollEt | kEpollExclusive;
                if ((events & ~kExclusiveOk) || target->as_epoll() != nullptr)
                    return Error(Errno::kEINVAL);
            }
            if (it != nullptr) return Error(Errno::kEEXIST);
            if (Epoll* e = target->as_epoll()) {
                if (reaches(e, 1)) return Error(Errno::kELOOP);
                if (e->depth_below() + 1 > kMaxNests) return Error(Errno::kELOOP);
            }
            if (count_ + 1 > nbuckets_ * 2) TRY(grow());
            it = mm::make<Item>();
            if (it == nullptr) return Error(Errno::kENOMEM);
            it->watch.notify = item_notified;
            it->close.closed = item_file_closed;
            it->ep = this;
            it->file = file;
            it->inode = target;
            it->fd = fd;
            it->events = events;
            it->data = data;
            it->next = items_;
            if (items_ != nullptr) items_->prev = it;
            items_ = it;
            it->hnext = buckets_[bucket_of(fd)];
            buckets_[bucket_of(fd)] = it;
            count_++;
            if (PollWatchers* w = target->poll_watchers()) w->add(&it->watch);
            file->add_close_hook(&it->close);
            break;
        }
        case kEpollCtlDel:
            if (it == nullptr) return Error(Errno::kENOENT);
            remove(it);
            return {};
        case kEpollCtlMod:
            if (it == nullptr) return Error(Errno::kENOENT);
            if ((events & kEpollExclusive) || (it->events & kEpollExclusive))
                return Error(Errno::kEINVAL);
            it->events = events;
            it->data = data;
            unqueue(it);
            break;
    }
    if (target->poll_events() & it->interest()) enqueue(it);
    return {};
}

size_t Epoll::collect(EpollEvent* out, size_t max) {
    Item* list = ready_head_;
    ready_head_ = ready_tail_ = nullptr;
    Item* keep_head = nullptr;
    Item* keep_tail = nullptr;
    size_t n = 0;
    while (list != nullptr) {
        Item* it = list;
        list = it->rnext;
        it->rnext = nullptr;
        it->queued = false;
        if (n == max) {
            // Not looked at this time: stays ready, ahead of those reported.
            it->queued = true;
            if (ready_tail_ != nullptr)
                ready_tail_->rnext = it;
            else
                ready_head_ = it;
            ready_tail_ = it;
            continue;
        }
        uint32_t ev = it->inode->poll_events() & it->interest();
        if (ev == 0) continue;  // no longer ready: off the list until notified
        out[n].events = ev;
        out[n].data = it->data;
        n++;
        if (it->events & kEpollOneshot) {
            it->events = 0;  // disabled until EPOLL_CTL_MOD
        } else if (!(it->events & kEpollEt)) {
            it->queued = true;  // level-triggered: still ready, checked again next time
            if (keep_tail != nullptr)
                keep_tail->rnext = it;
            else
                keep_head = it;
            keep_tail = it;
        }
    }
    if (keep_head != nullptr) {
        if (ready_tail_ != nullptr)
            ready_tail_->rnext = keep_head;
        else
            ready_head_ = keep_head;
        ready_tail_ = keep_tail;
    }
    return n;
}

uint32_t Epoll::poll_events() {
    for (Item* it = ready_head_; it != nullptr; it = it->rnext) {
        if (it->inode->poll_events() & it->interest()) return kPollReadable;
    }
    return 0;
}

bool Epoll::wakes_asynchronously() {
    for (Item* it = items_; it != nullptr; it = it->next) {
        if (it->interest() != 0 && it->inode->wakes_asynchronously()) return true;
    }
    return false;
}

}  // namespace kiln::fs
