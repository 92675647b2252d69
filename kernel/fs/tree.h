// The in-memory tree: directories, regular files and symlinks, as tmpfs
// keeps them. Regular files from the initrd read their bytes in place until
// the first write or growth copies them into pages of their own, so writes
// never touch the archive.
//
// Not thread-safe: the kernel runs one thread of the application at a time.
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "fs/inode.h"

namespace kiln::fs {

// Every heap-made inode of the tree frees itself on its last release.
class TreeInode : public Inode {
protected:
    void on_last_release() override;
};

class Directory final : public TreeInode {
public:
    // parent nullptr: a root (its own parent).
    explicit Directory(Directory* parent);
    ~Directory() override;

    InodeType type() const override { return InodeType::kDirectory; }
    uint64_t size() const override { return 4096; }
    Result<size_t> read_at(uint64_t, void*, size_t) override { return Error(Errno::kEISDIR); }
    Result<Inode*> lookup(Span<const char> name) override;
    Result<bool> read_dir(uint64_t* pos, DirEntry* out) override;
    // A root, or a removed directory, is its own parent.
    Inode* parent_dir() override { return parent_ != nullptr ? parent_ : this; }
    Directory* as_directory() override { return this; }

    // The child without retaining it, or nullptr.
    Inode* find(Span<const char> name) const;
    // Adds name → node (retained). EEXIST when the name is taken, EACCES
    // in a read-only directory, ENOENT in a removed one.
    Result<void> add(Span<const char> name, Inode* node);
    // Replaces the node under an existing name (retained; the old one is
    // released) or adds it.
    Result<void> replace(Span<const char> name, Inode* node);
    // Removes name; the node loses this directory's reference.
    Result<void> remove(Span<const char> name);
    // The name under which `child` is held, or an empty span.
    Span<const char> name_of(const Inode* child) const;
    size_t entry_count() const { return count_; }

    bool read_only() const { return read_only_; }
    void set_read_only(bool v) { read_only_ = v; }
    bool removed() const { return removed_; }
    // rmdir: the directory stays alive for holders but finds nothing, and
    // forgets its parent (which may go away).
    void mark_removed() {
        removed_ = true;
        parent_ = nullptr;
    }
    void set_parent(Directory* p) { parent_ = p; }
    Directory* parent() const { return parent_; }

private:
    struct Entry {
        char* name;
        uint16_t len;
        uint64_t cookie;  // read_dir position: stable across removals
        Inode* node;
    };
    Result<void> grow();

    Directory* parent_;  // not retained: a child never outlives its parent's entry
    Entry* entries_ = nullptr;
    size_t count_ = 0, cap_ = 0;
    uint64_t next_cookie_ = 2;
    bool read_only_ = false;
    bool removed_ = false;
};

class RegularFile final : public TreeInode {
public:
    RegularFile();
    // Bytes used in place (the initrd); copied on the first change.
    RegularFile(const uint8_t* data, uint64_t size);
    ~RegularFile() override;

    InodeType type() const override { return InodeType::kRegular; }
    uint64_t size() const override { return size_; }
    Result<size_t> read_at(uint64_t off, void* buf, size_t n) override;
    Result<size_t> write_at(uint64_t off, const void* buf, size_t n) override;
    Result<void> truncate(uint64_t size) override;
    RegularFile* as_regular() override { return this; }

    // Points the file at archive bytes (used in place), dropping its own.
    void set_in_place(const uint8_t* data, uint64_t size);
    // True while the bytes are still the archive's.
    bool in_place() const { return in_place_ != nullptr; }
    // Pages of file data held (for tests and statistics).
    size_t pages_held() const;

private:
    Result<void> materialize();
    Result<void> ensure_slots(uint64_t pages);
    void free_pages_from(uint64_t first_page);

    const uint8_t* in_place_ = nullptr;
    uint8_t** pages_ = nullptr;  // nullptr entries read as zeros
    uint64_t slots_ = 0;
    uint64_t size_ = 0;
};

class Symlink final : public TreeInode {
public:
    Symlink() = default;
    ~Symlink() override;
    // Makes a symlink to target (copied); nullptr on ENOMEM or a bad length.
    static Symlink* make(Span<const char> target);

    InodeType type() const override { return InodeType::kSymlink; }
    uint64_t size() const override { return len_; }
    Result<size_t> read_at(uint64_t off, void* buf, size_t n) override;
    Result<size_t> read_link(char* buf, size_t cap) override;

private:
    char* target_ = nullptr;
    size_t len_ = 0;
};

// Inode numbers: unique for the life of the VM.
uint64_t next_ino();

// Sets a fresh inode's number, mode bits and times (now).
void init_meta(Inode* node, uint32_t mode_bits);

// Heap copies of small strings.
char* dup_string(Span<const char> s);
bool span_equal(Span<const char> a, const char* b);

}  // namespace kiln::fs
