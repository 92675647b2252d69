// The in-memory tree (tree.h): directory entries, file pages with
// copy-on-write from the initrd, symlink targets.
#include "fs/tree.h"

#include "fs/platform.h"
#include "mm/new.h"

namespace kiln::fs {
namespace {

constexpr uint64_t kPage = 4096;
uint64_t g_next_ino = 2;  // 1 is traditionally unused; the root takes 2

}  // namespace

uint64_t next_ino() { return g_next_ino++; }

void init_meta(Inode* node, uint32_t mode_bits) {
    node->meta.ino = next_ino();
    node->meta.mode = mode_bits & 07777;
    int64_t t = now_ns();
    node->meta.atime_ns = node->meta.mtime_ns = node->meta.ctime_ns = t;
}

char* dup_string(Span<const char> s) {
    auto* p = static_cast<char*>(mm::heap_alloc(s.size() + 1, 1));
    if (p == nullptr) return nullptr;
    __builtin_memcpy(p, s.data(), s.size());
    p[s.size()] = '\0';
    return p;
}

bool span_equal(Span<const char> a, const char* b) {
    size_t n = __builtin_strlen(b);
    return a.size() == n && __builtin_memcmp(a.data(), b, n) == 0;
}

// Inode defaults: the answers Linux gives for the wrong kind of object.
Result<size_t> Inode::write_at(uint64_t, const void*, size_t) {
    return Error(type() == InodeType::kDirectory ? Errno::kEISDIR : Errno::kEINVAL);
}
Result<void> Inode::truncate(uint64_t) {
    return Error(type() == InodeType::kDirectory ? Errno::kEISDIR : Errno::kEINVAL);
}
Result<Inode*> Inode::lookup(Span<const char>) { return Error(Errno::kENOTDIR); }
Result<bool> Inode::read_dir(uint64_t*, DirEntry*) { return Error(Errno::kENOTDIR); }
Result<size_t> Inode::read_link(char*, size_t) { return Error(Errno::kEINVAL); }

void Inode::operator delete(void* p) { mm::heap_free(p); }

void TreeInode::on_last_release() { mm::destroy(this); }

// ---- Directory ----

Directory::Directory(Directory* parent) : parent_(parent) {
    init_meta(this, 0755);
    meta.nlink = 2;
}

Directory::~Directory() {
    for (size_t i = 0; i < count_; i++) {
        mm::heap_free(entries_[i].name);
        entries_[i].node->release();
    }
    mm::heap_free(entries_);
}

Inode* Directory::find(Span<const char> name) const {
    for (size_t i = 0; i < count_; i++) {
        const Entry& e = entries_[i];
        if (e.len == name.size() && __builtin_memcmp(e.name, name.data(), e.len) == 0)
            return e.node;
    }
    return nullptr;
}

Result<Inode*> Directory::lookup(Span<const char> name) {
    if (removed_) return Error(Errno::kENOENT);
    Inode* n = find(name);
    if (n == nullptr) return Error(Errno::kENOENT);
    n->retain();
    return n;
}

Result<bool> Directory::read_dir(uint64_t* pos, DirEntry* out) {
    if (removed_) return false;
    if (*pos == 0) {
        *out = DirEntry{meta.ino, InodeType::kDirectory, Span<const char>(".", 1)};
        *pos = 1;
        return true;
    }
    if (*pos == 1) {
        *out = DirEntry{parent_dir()->meta.ino, InodeType::kDirectory, Span<const char>("..", 2)};
        *pos = 2;
        return true;
    }
    // Entries stay in cookie order (appended with increasing cookies, and
    // removal keeps the order), so the first with cookie >= pos is next.
    for (size_t i = 0; i < count_; i++) {
        const Entry& e = entries_[i];
        if (e.cookie >= *pos) {
            *out = DirEntry{e.node->meta.ino, e.node->type(), Span<const char>(e.name, e.len)};
            *pos = e.cookie + 1;
            return true;
        }
    }
    return false;
}

Result<void> Directory::grow() {
    if (count_ < cap_) return {};
    size_t cap = cap_ == 0 ? 8 : cap_ * 2;
    auto* n = static_cast<Entry*>(mm::heap_alloc(cap * sizeof(Entry)));
    if (n == nullptr) return Error(Errno::kENOMEM);
    if (count_ > 0) __builtin_memcpy(n, entries_, count_ * sizeof(Entry));
    mm::heap_free(entries_);
    entries_ = n;
    cap_ = cap;
    return {};
}

Result<void> Directory::add(Span<const char> name, Inode* node) {
    if (removed_) return Error(Errno::kENOENT);
    if (read_only_) return Error(Errno::kEACCES);
    if (name.size() == 0 || name.size() > kNameMax) return Error(Errno::kEINVAL);
    if (find(name) != nullptr) return Error(Errno::kEEXIST);
    TRY(grow());
    char* copy = dup_string(name);
    if (copy == nullptr) return Error(Errno::kENOMEM);
    node->retain();
    entries_[count_++] = Entry{copy, static_cast<uint16_t>(name.size()), next_cookie_++, node};
    if (node->type() == InodeType::kDirectory) meta.nlink++;
    meta.mtime_ns = meta.ctime_ns = now_ns();
    return {};
}

Result<void> Directory::replace(Span<const char> name, Inode* node) {
    for (size_t i = 0; i < count_; i++) {
        Entry& e = entries_[i];
        if (e.len == name.size() && __builtin_memcmp(e.name, name.data(), e.len) == 0) {
            if (read_only_) return Error(Errno::kEACCES);
            node->retain();
            if (e.node->type() == InodeType::kDirectory) meta.nlink--;
            if (node->type() == InodeType::kDirectory) meta.nlink++;
            e.node->release();
            e.node = node;
            meta.mtime_ns = meta.ctime_ns = now_ns();
            return {};
        }
    }
    return add(name, node);
}

Result<void> Directory::remove(Span<const char> name) {
    if (read_only_) return Error(Errno::kEACCES);
    for (size_t i = 0; i < count_; i++) {
        Entry& e = entries_[i];
        if (e.len == name.size() && __builtin_memcmp(e.name, name.data(), e.len) == 0) {
            Inode* node = e.node;
            mm::heap_free(e.name);
            for (size_t j = i + 1; j < count_; j++) entries_[j - 1] = entries_[j];
            count_--;
            if (node->type() == InodeType::kDirectory) meta.nlink--;
            meta.mtime_ns = meta.ctime_ns = now_ns();
            node->release();
            return {};
        }
    }
    return Error(Errno::kENOENT);
}

Span<const char> Directory::name_of(const Inode* child) const {
    for (size_t i = 0; i < count_; i++) {
        if (entries_[i].node == child) return Span<const char>(entries_[i].name, entries_[i].len);
    }
    return {};
}

// ---- RegularFile ----

RegularFile::RegularFile() { init_meta(this, 0644); }

RegularFile::RegularFile(const uint8_t* data, uint64_t size) : in_place_(data), size_(size) {
    init_meta(this, 0644);
    if (size == 0) in_place_ = nullptr;
}

void RegularFile::set_in_place(const uint8_t* data, uint64_t size) {
    free_pages_from(0);
    in_place_ = size != 0 ? data : nullptr;
    size_ = size;
}

RegularFile::~RegularFile() {
    free_pages_from(0);
    mm::heap_free(pages_);
}

size_t RegularFile::pages_held() const {
    size_t n = 0;
    for (uint64_t i = 0; i < slots_; i++) n += pages_[i] != nullptr;
    return n;
}

void RegularFile::free_pages_from(uint64_t first_page) {
    for (uint64_t i = first_page; i < slots_; i++) {
        free_page(pages_[i]);
        pages_[i] = nullptr;
    }
}

Result<void> RegularFile::ensure_slots(uint64_t pages) {
    if (pages <= slots_) return {};
    uint64_t n = slots_ == 0 ? 4 : slots_;
    while (n < pages) n *= 2;
    auto* p = static_cast<uint8_t**>(mm::heap_alloc(n * sizeof(uint8_t*)));
    if (p == nullptr) return Error(Errno::kENOMEM);
    for (uint64_t i = 0; i < n; i++) p[i] = i < slots_ ? pages_[i] : nullptr;
    mm::heap_free(pages_);
    pages_ = p;
    slots_ = n;
    return {};
}

// Copies the archive's bytes into pages of the file's own; the archive is
// never written.
Result<void> RegularFile::materialize() {
    if (in_place_ == nullptr) return {};
    uint64_t npages = (size_ + kPage - 1) / kPage;
    TRY(ensure_slots(npages));
    for (uint64_t i = 0; i < npages; i++) {
        if (pages_[i] == nullptr) {
            pages_[i] = static_cast<uint8_t*>(alloc_page());
            if (pages_[i] == nullptr) {
                free_pages_from(0);
                return Error(Errno::kENOMEM);
            }
        }
        uint64_t off = i * kPage;
        uint64_t n = size_ - off < kPage ? size_ - off : kPage;
        __builtin_memcpy(pages_[i], in_place_ + off, n);
        if (n < kPage) __builtin_memset(pages_[i] + n, 0, kPage - n);
    }
    in_place_ = nullptr;
    return {};
}

Result<size_t> RegularFile::read_at(uint64_t off, void* buf, size_t n) {
    if (off >= size_) return size_t{0};
    if (n > size_ - off) n = size_ - off;
    auto* out = static_cast<uint8_t*>(buf);
    if (in_place_ != nullptr) {
        __builtin_memcpy(out, in_place_ + off, n);
        return n;
    }
    size_t done = 0;
    while (done < n) {
        uint64_t pos = off + done;
        uint64_t page = pos / kPage, in = pos % kPage;
        size_t chunk = kPage - in < n - done ? kPage - in : n - done;
        if (page < slots_ && pages_[page] != nullptr)
            __builtin_memcpy(out + done, pages_[page] + in, chunk);
        else
            __builtin_memset(out + done, 0, chunk);
        done += chunk;
    }
    return n;
}

Result<size_t> RegularFile::write_at(uint64_t off, const void* buf, size_t n) {
    if (n == 0) return size_t{0};
    if (off >= kMaxFileSize || n > kMaxFileSize - off) return Error(Errno::kEFBIG);
    TRY(materialize());
    uint64_t end = off + n;
    TRY(ensure_slots((end + kPage - 1) / kPage));
    auto* in = static_cast<const uint8_t*>(buf);
    size_t done = 0;
    while (done < n) {
        uint64_t pos = off + done;
        uint64_t page = pos / kPage, po = pos % kPage;
        size_t chunk = kPage - po < n - done ? kPage - po : n - done;
        if (pages_[page] == nullptr) {
            pages_[page] = static_cast<uint8_t*>(alloc_page());
            if (pages_[page] == nullptr) break;
            __builtin_memset(pages_[page], 0, kPage);
        }
        __builtin_memcpy(pages_[page] + po, in + done, chunk);
        done += chunk;
    }
    if (done == 0) return Error(Errno::kENOSPC);
    if (off + done > size_) size_ = off + done;
    meta.mtime_ns = meta.ctime_ns = now_ns();
    return done;
}

Result<void> RegularFile::truncate(uint64_t size) {
    if (size > kMaxFileSize) return Error(Errno::kEFBIG);
    if (in_place_ != nullptr && size <= size_) {
        size_ = size;  // still the archive's bytes, just fewer of them
        if (size == 0) in_place_ = nullptr;
    } else {
        TRY(materialize());
        if (size < size_) {
            uint64_t keep = (size + kPage - 1) / kPage;
            free_pages_from(keep);
            // The rest of the last page must read as zeros if the file grows.
            if (size % kPage != 0 && keep - 1 < slots_ && pages_[keep - 1] != nullptr)
                __builtin_memset(pages_[keep - 1] + size % kPage, 0, kPage - size % kPage);
        }
        size_ = size;
    }
    meta.mtime_ns = meta.ctime_ns = now_ns();
    return {};
}

// ---- Symlink ----

Symlink::~Symlink() { mm::heap_free(target_); }

Symlink* Symlink::make(Span<const char> target) {
    if (target.size() == 0 || target.size() >= kPathMax) return nullptr;
    auto* s = mm::make<Symlink>();
    if (s == nullptr) return nullptr;
    s->target_ = dup_string(target);
    if (s->target_ == nullptr) {
        mm::destroy(s);
        return nullptr;
    }
    s->len_ = target.size();
    init_meta(s, 0777);
    return s;
}

Result<size_t> Symlink::read_at(uint64_t off, void* buf, size_t n) {
    if (off >= len_) return size_t{0};
    if (n > len_ - off) n = len_ - off;
    __builtin_memcpy(buf, target_ + off, n);
    return n;
}

Result<size_t> Symlink::read_link(char* buf, size_t cap) {
    size_t n = len_ < cap ? len_ : cap;
    __builtin_memcpy(buf, target_, n);
    return n;
}

}  // namespace kiln::fs
