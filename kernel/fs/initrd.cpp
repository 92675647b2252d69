// cpio newc → tree (initrd.h).
#include "fs/initrd.h"

#include "fs/mode.h"
#include "kiln/cpio.h"
#include "mm/new.h"

namespace kiln::fs {
namespace {

// Files with nlink > 1 share one inode per archive: newc stores the data
// once, with the last link of the group.
struct HardLinks {
    struct Link {
        uint32_t ino;
        RegularFile* file;  // retained
    };
    Link* links = nullptr;
    size_t count = 0, cap = 0;

    ~HardLinks() {
        for (size_t i = 0; i < count; i++) links[i].file->release();
        mm::heap_free(links);
    }
    RegularFile* find(uint32_t ino) const {
        for (size_t i = 0; i < count; i++) {
            if (links[i].ino == ino) return links[i].file;
        }
        return nullptr;
    }
    Result<void> add(uint32_t ino, RegularFile* f) {
        if (count == cap) {
            size_t n = cap == 0 ? 8 : cap * 2;
            auto* p = static_cast<Link*>(mm::heap_alloc(n * sizeof(Link)));
            if (p == nullptr) return Error(Errno::kENOMEM);
            for (size_t i = 0; i < count; i++) p[i] = links[i];
            mm::heap_free(links);
            links = p;
            cap = n;
        }
        f->retain();
        links[count++] = Link{ino, f};
        return {};
    }
};

void apply_meta(Inode* n, const cpio::Entry& e) {
    n->meta.mode = e.mode & 07777;
    n->meta.uid = e.uid;
    n->meta.gid = e.gid;
    int64_t t = static_cast<int64_t>(e.mtime) * 1000000000;
    n->meta.atime_ns = n->meta.mtime_ns = n->meta.ctime_ns = t;
}

// The directory for the components before the last, made as needed
// (replacing non-directories in the way).
Result<Directory*> parent_for(Directory* root, Span<const char> path, Span<const char>* last) {
    Directory* cur = root;
    size_t i = 0;
    for (;;) {
        while (i < path.size() && path[i] == '/') i++;
        size_t s = i;
        while (i < path.size() && path[i] != '/') i++;
        Span<const char> comp(path.data() + s, i - s);
        size_t j = i;
        while (j < path.size() && path[j] == '/') j++;
        if (j == path.size()) {
            *last = comp;
            return cur;
        }
        if (comp.size() == 0 || span_equal(comp, ".")) continue;
        Inode* child = cur->find(comp);
        Directory* d = child != nullptr ? child->as_directory() : nullptr;
        if (d == nullptr) {
            d = mm::make<Directory>(cur);
            if (d == nullptr) return Error(Errno::kENOMEM);
            auto r = cur->replace(comp, d);
            d->release();
            TRY(r);
        }
        cur = d;
    }
}

// Whether the archive name is safe to place: no ".." component, no
// component longer than NAME_MAX.
bool acceptable(Span<const char> name) {
    size_t i = 0;
    while (i < name.size()) {
        size_t s = i;
        while (i < name.size() && name[i] != '/') i++;
        Span<const char> comp(name.data() + s, i - s);
        if (span_equal(comp, "..") || comp.size() > kNameMax) return false;
        while (i < name.size() && name[i] == '/') i++;
    }
    return true;
}

Result<void> place(Directory* root, const cpio::Entry& e, HardLinks* links, UnpackStats* st) {
    if (!acceptable(e.name)) {
        st->skipped++;
        return {};
    }
    Span<const char> last;
    Directory* dir = TRY(parent_for(root, e.name, &last));
    if (last.size() == 0 || span_equal(last, ".")) {
        // The archive's "." entry: the directory itself.
        if ((e.mode & kIfMt) == kIfDir) apply_meta(dir, e);
        return {};
    }
    Inode* existing = dir->find(last);
    switch (e.mode & kIfMt) {
    case kIfDir: {
        if (Directory* d = existing != nullptr ? existing->as_directory() : nullptr) {
            apply_meta(d, e);
            return {};
        }
        auto* d = mm::make<Directory>(dir);
        if (d == nullptr) return Error(Errno::kENOMEM);
        apply_meta(d, e);
        auto r = dir->replace(last, d);
        d->release();
        return r;
    }
    case kIfReg: {
        RegularFile* f = e.nlink > 1 ? links->find(e.ino) : nullptr;
        if (f != nullptr) {
            if (e.data.size() > 0) f->set_in_place(e.data.data(), e.data.size());
            f->meta.nlink++;
            return dir->replace(last, f);
        }
        f = mm::make<RegularFile>(e.data.data(), e.data.size());
        if (f == nullptr) return Error(Errno::kENOMEM);
        apply_meta(f, e);
        auto r = dir->replace(last, f);
        if (r.ok() && e.nlink > 1) r = links->add(e.ino, f);
        f->release();
        return r;
    }
    case kIfLnk: {
        Symlink* s =
            Symlink::make(Span<const char>(reinterpret_cast<const char*>(e.data.data()), e.data.size()));
        if (s == nullptr) {
            if (e.data.size() == 0 || e.data.size() >= kPathMax) {
                st->skipped++;
                return {};
            }
            return Error(Errno::kENOMEM);
        }
        apply_meta(s, e);
        s->meta.mode = 0777;
        auto r = dir->replace(last, s);
        s->release();
        return r;
    }
    default:
        st->skipped++;  // devices, fifos, sockets: kiln provides its own /dev
        return {};
    }
}

}  // namespace

Result<void> unpack_cpio(Directory* root, Bytes image, UnpackStats* stats) {
    UnpackStats local;
    UnpackStats* st = stats != nullptr ? stats : &local;
    size_t off = cpio::skip_padding(image, 0);
    while (off < image.size()) {
        Bytes archive = image.subspan(off);
        cpio::Reader reader(archive);
        HardLinks links;
        cpio::Entry e;
        for (;;) {
            bool more = TRY(reader.next(&e));
            if (!more) break;
            st->entries++;
            TRY(place(root, e, &links, st));
        }
        off = cpio::skip_padding(image, off + reader.offset());
    }
    return {};
}

}  // namespace kiln::fs
