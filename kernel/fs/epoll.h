// epoll(7) instances: an interest list of (descriptor, open file) items and
// a ready list fed by the watched objects' notifications (PollWatchers), so
// epoll_wait looks only at items that became ready, never at every item.
// Level-triggered items stay on the ready list while they are ready;
// edge-triggered ones are reported once per notification; EPOLLONESHOT
// items are disabled after one report until EPOLL_CTL_MOD re-arms them.
// Items go away with EPOLL_CTL_DEL or when their open file description is
// closed for good (all descriptors). Pure: host-tested.
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "fs/file.h"
#include "fs/inode.h"
#include "fs/tree.h"

namespace kiln::fs {

inline constexpr int kEpollCtlAdd = 1, kEpollCtlDel = 2, kEpollCtlMod = 3;
inline constexpr uint32_t kEpollExclusive = 1u << 28;
inline constexpr uint32_t kEpollWakeup = 1u << 29;
inline constexpr uint32_t kEpollOneshot = 1u << 30;
inline constexpr uint32_t kEpollEt = 1u << 31;

// struct epoll_event on x86-64: packed, 12 bytes.
struct __attribute__((packed)) EpollEvent {
    uint32_t events;
    uint64_t data;
};
static_assert(sizeof(EpollEvent) == 12);

class Epoll final : public TreeInode {
public:
    Epoll();
    ~Epoll() override;

    // epoll_ctl(2) on the item for (fd, file): EEXIST, ENOENT, EPERM (a
    // file without readiness), EINVAL (itself, bad flags), ELOOP (a cycle
    // of epoll instances or nesting deeper than Linux's 5), ENOMEM.
    Result<void> ctl(int op, int fd, File* file, uint32_t events, uint64_t data);
    // Takes up to max ready events into out (epoll_wait's answer).
    size_t collect(EpollEvent* out, size_t max);
    // Number of items (for tests).
    size_t item_count() const;

    InodeType type() const override { return InodeType::kCharDevice; }  // see eventfd.cpp
    uint64_t size() const override { return 0; }
    bool seekable() const override { return false; }
    Result<size_t> read_at(uint64_t, void*, size_t) override { return Error(Errno::kEINVAL); }
    Result<size_t> write_at(uint64_t, const void*, size_t) override {
        return Error(Errno::kEINVAL);
    }
    uint32_t poll_events() override;
    PollWatchers* poll_watchers() override { return &watchers_; }
    bool wakes_asynchronously() override;
    Epoll* as_epoll() override { return this; }

    struct Item;

private:
    Item* find(int fd, File* file) const;
    void enqueue(Item* it);
    void unqueue(Item* it);
    void remove(Item* it);
    bool reaches(Epoll* target, int depth) const;
    int depth_below() const;
    static void item_notified(PollWatcher* w, uint32_t events);
    static void item_file_closed(FileCloseHook* h);

    size_t bucket_of(int fd) const;
    Result<void> grow();

    Item* items_ = nullptr;
    Item** buckets_ = nullptr;  // nbuckets_ chains (a power of two)
    size_t nbuckets_ = 0;
    size_t count_ = 0;
    Item* ready_head_ = nullptr;
    Item* ready_tail_ = nullptr;
    PollWatchers watchers_;
};

}  // namespace kiln::fs
