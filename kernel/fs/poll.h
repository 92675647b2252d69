// Readiness of open files for poll(2), select(2) and epoll(7): the event
// bits (Linux's values, shared by poll and epoll), and the watchers an
// object notifies when its readiness changes (epoll items, waiters).
// Pure: built into the kernel and the host unit tests.
#pragma once

#include <stdint.h>

namespace kiln::fs {

inline constexpr uint32_t kPollIn = 0x001;
inline constexpr uint32_t kPollPri = 0x002;
inline constexpr uint32_t kPollOut = 0x004;
inline constexpr uint32_t kPollErr = 0x008;
inline constexpr uint32_t kPollHup = 0x010;
inline constexpr uint32_t kPollNval = 0x020;
inline constexpr uint32_t kPollRdNorm = 0x040;
inline constexpr uint32_t kPollRdBand = 0x080;
inline constexpr uint32_t kPollWrNorm = 0x100;
inline constexpr uint32_t kPollWrBand = 0x200;
inline constexpr uint32_t kPollRdHup = 0x2000;

inline constexpr uint32_t kPollReadable = kPollIn | kPollRdNorm;
inline constexpr uint32_t kPollWritable = kPollOut | kPollWrNorm;

// Something to tell when an object's readiness changes. notify runs in the
// context that changed the object (a system call, or a deferred interrupt
// notification); it must not block.
struct PollWatcher {
    void (*notify)(PollWatcher* self, uint32_t events) = nullptr;
    PollWatcher* next = nullptr;
    PollWatcher* prev = nullptr;
    bool linked = false;
};

// The watchers of one object (an intrusive doubly linked list).
class PollWatchers {
public:
    void add(PollWatcher* w) {
        if (w->linked) return;
        w->prev = nullptr;
        w->next = head_;
        if (head_ != nullptr) head_->prev = w;
        head_ = w;
        w->linked = true;
    }
    void remove(PollWatcher* w) {
        if (!w->linked) return;
        if (w->prev != nullptr)
            w->prev->next = w->next;
        else
            head_ = w->next;
        if (w->next != nullptr) w->next->prev = w->prev;
        w->next = w->prev = nullptr;
        w->linked = false;
    }
    // Tells every watcher; a watcher may remove itself while told.
    void notify(uint32_t events) {
        for (PollWatcher* w = head_; w != nullptr;) {
            PollWatcher* next = w->next;
            w->notify(w, events);
            w = next;
        }
    }
    bool empty() const { return head_ == nullptr; }

private:
    PollWatcher* head_ = nullptr;
};

}  // namespace kiln::fs
