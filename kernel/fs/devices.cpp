// /dev: the memory devices of mem(4), null(4) and random(4), and the
// console. Major/minor numbers are Linux's (devices.txt: 1:3 null, 1:5
// zero, 1:7 full, 1:8 random, 1:9 urandom, 5:0 tty, 5:1 console).
#include "dev/console.h"
#include "dev/random.h"
#include "fs/nodes.h"
#include "mm/new.h"

namespace kiln::fs {
namespace {

enum class Kind { kNull, kZero, kFull, kRandom };

class CharDevice : public TreeInode {
public:
    CharDevice(uint32_t major, uint32_t minor, uint32_t mode) {
        init_meta(this, mode);
        meta.rdev = major << 8 | minor;
    }
    InodeType type() const override { return InodeType::kCharDevice; }
    uint64_t size() const override { return 0; }
    uint64_t bytes_readable(uint64_t) const override { return 0; }
};

class MemDevice final : public CharDevice {
public:
    MemDevice(Kind k, uint32_t minor) : CharDevice(1, minor, 0666), kind_(k) {}
    Result<size_t> read_at(uint64_t, void* buf, size_t n) override {
        switch (kind_) {
        case Kind::kNull: return size_t{0};
        case Kind::kRandom: dev::random_bytes(buf, n); return n;
        default: __builtin_memset(buf, 0, n); return n;
        }
    }
    Result<size_t> write_at(uint64_t, const void*, size_t n) override {
        if (kind_ == Kind::kFull) return Error(Errno::kENOSPC);
        return n;
    }
    Result<void> truncate(uint64_t) override { return {}; }

private:
    Kind kind_;
};

class ConsoleDevice final : public CharDevice {
public:
    explicit ConsoleDevice(ConsoleEnd end) : CharDevice(5, end == ConsoleEnd::kTty ? 0 : 1, 0620), end_(end) {}
    bool seekable() const override { return false; }
    Result<size_t> read_at(uint64_t, void* buf, size_t n) override {
        if (end_ == ConsoleEnd::kStdout || end_ == ConsoleEnd::kStderr) {
            // Linux lets a process read its terminal through any fd; here the
            // output ends only write.
            return Error(Errno::kEBADF);
        }
        long r = dev::console_read(static_cast<char*>(buf), n);
        return r < 0 ? size_t{0} : static_cast<size_t>(r);  // no input: end of file
    }
    Result<size_t> write_at(uint64_t, const void* buf, size_t n) override {
        dev::console_write(end_ == ConsoleEnd::kStderr ? dev::Stream::kStderr : dev::Stream::kStdout,
                           static_cast<const char*>(buf), n);
        return n;
    }
    Result<void> truncate(uint64_t) override { return {}; }
    // The monitor cannot say whether stdin has input without reading it
    // (console_read blocks there), so stdin always polls readable: a read
    // returns data or end of input.
    uint32_t poll_events() override {
        switch (end_) {
        case ConsoleEnd::kStdin: return kPollReadable;
        case ConsoleEnd::kStdout:
        case ConsoleEnd::kStderr: return kPollWritable;
        default: return kPollReadable | kPollWritable;
        }
    }

private:
    ConsoleEnd end_;
};

Result<void> add_node(Directory* dir, const char* name, Inode* node) {
    if (node == nullptr) return Error(Errno::kENOMEM);
    auto r = dir->replace(Span<const char>(name, __builtin_strlen(name)), node);
    node->release();
    return r;
}

Result<void> add_link(Directory* dir, const char* name, const char* target) {
    return add_node(dir, name, Symlink::make(Span<const char>(target, __builtin_strlen(target))));
}

}  // namespace

Inode* make_console(ConsoleEnd end) { return mm::make<ConsoleDevice>(end); }

Result<void> populate_dev(Directory* dev) {
    TRY(add_node(dev, "null", mm::make<MemDevice>(Kind::kNull, 3)));
    TRY(add_node(dev, "zero", mm::make<MemDevice>(Kind::kZero, 5)));
    TRY(add_node(dev, "full", mm::make<MemDevice>(Kind::kFull, 7)));
    TRY(add_node(dev, "random", mm::make<MemDevice>(Kind::kRandom, 8)));
    TRY(add_node(dev, "urandom", mm::make<MemDevice>(Kind::kRandom, 9)));
    TRY(add_node(dev, "tty", make_console(ConsoleEnd::kTty)));
    TRY(add_node(dev, "console", make_console(ConsoleEnd::kTty)));
    TRY(add_link(dev, "stdin", "/proc/self/fd/0"));
    TRY(add_link(dev, "stdout", "/proc/self/fd/1"));
    TRY(add_link(dev, "stderr", "/proc/self/fd/2"));
    TRY(add_link(dev, "fd", "/proc/self/fd"));
    if (dev->find(Span<const char>("shm", 3)) == nullptr) {
        auto* shm = mm::make<Directory>(dev);
        if (shm == nullptr) return Error(Errno::kENOMEM);
        shm->meta.mode = 01777;
        TRY(add_node(dev, "shm", shm));
    }
    return {};
}

}  // namespace kiln::fs
