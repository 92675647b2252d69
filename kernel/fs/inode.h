// What the rest of the kernel needs from a file system object: its type and
// size, and reading its bytes at an offset (the loader reads ELF images,
// mm fills private file mappings). kernel/fs owns the full interface; this
// part is the contract others build on.
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "kiln/result.h"

namespace kiln::fs {

enum class InodeType : uint8_t { kRegular, kDirectory, kSymlink, kCharDevice, kFifo, kSocket };

class Inode {
public:
    virtual ~Inode() = default;
    virtual InodeType type() const = 0;
    virtual uint64_t size() const = 0;
    // Up to n bytes at off; fewer at end of file (0 at or past it).
    virtual Result<size_t> read_at(uint64_t off, void* buf, size_t n) = 0;

    // Reference counting: an Inode lives while anything holds it.
    void retain() { refs_++; }
    void release() {
        if (--refs_ == 0) on_last_release();
    }

protected:
    virtual void on_last_release() {}

private:
    uint32_t refs_ = 1;
};

}  // namespace kiln::fs
