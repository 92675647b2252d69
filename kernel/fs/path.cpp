// Path resolution (path.h). One heap buffer holds the part of the path still
// to walk; a symlink's target is spliced in front of the rest, so nested
// links need no recursion and the link count bounds the work.
#include "fs/path.h"

#include "fs/tree.h"
#include "mm/new.h"

namespace kiln::fs {

void Resolved::reset() {
    release(parent);
    release(node);
    parent = node = nullptr;
    name_len = 0;
    name[0] = '\0';
    trailing_slash = false;
}

bool Resolved::last_is_dot_or_dotdot() const {
    return (name_len == 1 && name[0] == '.') || (name_len == 2 && name[0] == '.' && name[1] == '.');
}

namespace {

// A path buffer of 2 * PATH_MAX: the rest of the path plus a link target.
constexpr size_t kBufSize = 2 * kPathMax;

struct Walk {
    char* buf;
    size_t pos, len;  // the unwalked part is buf[pos, len)
};

// Replaces buf[0, pos) with `target` so the walk continues through it.
Result<void> splice(Walk* w, const char* target, size_t tlen) {
    size_t rest = w->len - w->pos;
    if (tlen + rest >= kPathMax) return Error(Errno::kENAMETOOLONG);
    __builtin_memmove(w->buf + tlen, w->buf + w->pos, rest);
    __builtin_memcpy(w->buf, target, tlen);
    w->pos = 0;
    w->len = tlen + rest;
    return {};
}

void set(Inode** slot, Inode* v) {
    if (v != nullptr) v->retain();
    release(*slot);
    *slot = v;
}

}  // namespace

Result<void> resolve(const FsContext& ctx, Inode* start, const char* path, unsigned flags,
                     Resolved* out) {
    out->reset();
    size_t plen = __builtin_strlen(path);
    if (plen == 0) return Error(Errno::kENOENT);
    if (plen >= kPathMax) return Error(Errno::kENAMETOOLONG);

    auto* buf = static_cast<char*>(mm::heap_alloc(kBufSize, 1));
    auto* link = static_cast<char*>(mm::heap_alloc(kPathMax, 1));
    if (buf == nullptr || link == nullptr) {
        mm::heap_free(buf);
        mm::heap_free(link);
        return Error(Errno::kENOMEM);
    }
    __builtin_memcpy(buf, path, plen);
    Walk w{buf, 0, plen};
    int links = 0;
    Inode* cur = nullptr;  // retained
    Result<void> result = {};

    set(&cur, path[0] == '/' ? ctx.root : start);
    // "/" alone (or "//", "/.") names the root: parent is the root too.
    out->name[0] = '/';
    out->name_len = 1;

    for (;;) {
        while (w.pos < w.len && buf[w.pos] == '/') w.pos++;
        if (w.pos == w.len) {
            // Nothing left: the path named cur itself (it ended in '/' or
            // was all slashes and dots).
            set(&out->node, cur);
            if (out->parent == nullptr) set(&out->parent, cur->parent_dir() ? cur->parent_dir() : cur);
            break;
        }
        if (cur->type() != InodeType::kDirectory) {
            result = Error(Errno::kENOTDIR);
            break;
        }
        size_t s = w.pos;
        while (w.pos < w.len && buf[w.pos] != '/') w.pos++;
        size_t clen = w.pos - s;
        if (clen > kNameMax) {
            result = Error(Errno::kENAMETOOLONG);
            break;
        }
        size_t after = w.pos;
        while (after < w.len && buf[after] == '/') after++;
        bool last = after == w.len;
        bool slash = last && after != w.pos;
        Span<const char> comp(buf + s, clen);

        __builtin_memcpy(out->name, comp.data(), clen);
        out->name[clen] = '\0';
        out->name_len = clen;
        out->trailing_slash = slash;

        Inode* next = nullptr;  // retained
        if (clen == 1 && comp[0] == '.') {
            next = cur;
            next->retain();
        } else if (clen == 2 && comp[0] == '.' && comp[1] == '.') {
            // ".." at the process's root stays there; a removed directory
            // has no parent.
            Directory* cd = cur->as_directory();
            if (cd != nullptr && cd->removed()) {
                result = Error(Errno::kENOENT);
                break;
            }
            next = cur == ctx.root ? cur : cur->parent_dir();
            if (next == nullptr) next = cur;
            next->retain();
        } else {
            auto r = cur->lookup(comp);
            if (!r.ok()) {
                if (r.error() == Errno::kENOENT && last) {
                    // Missing last component: where it would be created.
                    set(&out->parent, cur);
                    release(out->node);
                    out->node = nullptr;
                    break;
                }
                result = Error(r.error());
                break;
            }
            next = *r;
        }

        if (next->type() == InodeType::kSymlink && (!last || slash || (flags & kFollowLast))) {
            if (++links > kMaxSymlinks) {
                next->release();
                result = Error(Errno::kELOOP);
                break;
            }
            if (Inode* magic = next->follow_magic()) {
                // /proc/self/fd/N: the link stands for an inode, not a path.
                next->release();
                next = magic;
            } else {
                auto n = next->read_link(link, kPathMax);
                next->release();
                if (!n.ok()) {
                    result = Error(n.error());
                    break;
                }
                auto sp = splice(&w, link, *n);
                if (!sp.ok()) {
                    result = sp;
                    break;
                }
                if (*n > 0 && link[0] == '/') set(&cur, ctx.root);
                continue;
            }
        }

        if (last) {
            set(&out->parent, cur);
            release(out->node);
            out->node = next;
            if (slash && next->type() != InodeType::kDirectory) result = Error(Errno::kENOTDIR);
            break;
        }
        release(cur);
        cur = next;
    }

    release(cur);
    mm::heap_free(buf);
    mm::heap_free(link);
    if (!result.ok()) out->reset();
    return result;
}

Result<Inode*> resolve_existing(const FsContext& ctx, Inode* start, const char* path,
                                unsigned flags) {
    Resolved r;
    TRY(resolve(ctx, start, path, flags, &r));
    if (r.node == nullptr) return Error(Errno::kENOENT);
    Inode* n = r.node;
    r.node = nullptr;
    return n;
}

Result<size_t> directory_path(const FsContext& ctx, Inode* dir, char* buf, size_t cap) {
    // Collect names from dir up to the root, then write them in reverse.
    if (cap < 2) return Error(Errno::kERANGE);
    size_t end = cap - 1;  // build right-aligned, then move to the front
    buf[end] = '\0';
    size_t p = end;
    Inode* cur = dir;
    int depth = 0;
    while (cur != ctx.root) {
        Directory* d = cur->as_directory();
        if (d != nullptr && d->removed()) return Error(Errno::kENOENT);
        Inode* up = cur->parent_dir();
        if (up == nullptr || up == cur || ++depth > 4096) break;  // a root of its own
        Span<const char> name;
        if (Directory* ud = up->as_directory()) name = ud->name_of(cur);
        if (name.size() == 0) return Error(Errno::kENOENT);
        if (name.size() + 1 > p) return Error(Errno::kERANGE);
        p -= name.size();
        __builtin_memcpy(buf + p, name.data(), name.size());
        buf[--p] = '/';
        cur = up;
    }
    if (p == end) buf[--p] = '/';
    size_t len = end - p;
    __builtin_memmove(buf, buf + p, len + 1);
    return len;
}

}  // namespace kiln::fs
