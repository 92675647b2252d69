// Tree changes by path (ops.h).
#include "fs/ops.h"

#include "fs/platform.h"
#include "fs/tree.h"
#include "mm/new.h"

namespace kiln::fs {
namespace {

// The writable directory a new name goes into, or the error for creating
// `r`'s last component there.
Result<Directory*> creation_dir(const Resolved& r) {
    if (r.node != nullptr) return Error(Errno::kEEXIST);
    Directory* d = r.parent != nullptr ? r.parent->as_directory() : nullptr;
    if (d == nullptr) return Error(Errno::kEACCES);
    if (d->removed()) return Error(Errno::kENOENT);
    if (d->read_only()) return Error(Errno::kEACCES);
    return d;
}

bool is_dir(const Inode* n) { return n->type() == InodeType::kDirectory; }

// True when `dir` is `ancestor` or lies below it.
bool is_within(Inode* dir, Inode* ancestor) {
    for (Inode* cur = dir;;) {
        if (cur == ancestor) return true;
        Inode* up = cur->parent_dir();
        if (up == nullptr || up == cur) return false;
        cur = up;
    }
}

}  // namespace

Result<void> make_directory(const FsContext& ctx, Inode* start, const char* path, uint32_t mode) {
    Resolved r;
    TRY(resolve(ctx, start, path, 0, &r));
    Directory* parent = TRY(creation_dir(r));
    auto* d = mm::make<Directory>(parent);
    if (d == nullptr) return Error(Errno::kENOMEM);
    d->meta.mode = mode & 07777;
    auto added = parent->add(r.last(), d);
    d->release();
    return added;
}

Result<void> make_file(const FsContext& ctx, Inode* start, const char* path, uint32_t mode) {
    Resolved r;
    TRY(resolve(ctx, start, path, 0, &r));
    Directory* parent = TRY(creation_dir(r));
    if (r.trailing_slash) return Error(Errno::kENOENT);
    auto* f = mm::make<RegularFile>();
    if (f == nullptr) return Error(Errno::kENOMEM);
    f->meta.mode = mode & 07777;
    auto added = parent->add(r.last(), f);
    f->release();
    return added;
}

Result<void> make_symlink(const FsContext& ctx, const char* target, Inode* start,
                          const char* linkpath) {
    size_t tlen = __builtin_strlen(target);
    if (tlen == 0) return Error(Errno::kENOENT);
    if (tlen >= kPathMax) return Error(Errno::kENAMETOOLONG);
    Resolved r;
    TRY(resolve(ctx, start, linkpath, 0, &r));
    Directory* parent = TRY(creation_dir(r));
    if (r.trailing_slash) return Error(Errno::kENOENT);
    Symlink* s = Symlink::make(Span<const char>(target, tlen));
    if (s == nullptr) return Error(Errno::kENOMEM);
    auto added = parent->add(r.last(), s);
    s->release();
    return added;
}

Result<void> make_link(const FsContext& ctx, Inode* old_start, const char* old_path,
                       Inode* new_start, const char* new_path, bool follow) {
    Inode* old = TRY(resolve_existing(ctx, old_start, old_path, follow ? unsigned{kFollowLast} : 0u));
    Result<void> result = {};
    if (is_dir(old)) {
        result = Error(Errno::kEPERM);
    } else {
        Resolved r;
        result = resolve(ctx, new_start, new_path, 0, &r);
        if (result.ok()) {
            auto parent = creation_dir(r);
            if (!parent.ok())
                result = Error(parent.error());
            else if (r.trailing_slash)
                result = Error(Errno::kENOENT);
            else
                result = (*parent)->add(r.last(), old);
            if (result.ok()) {
                old->meta.nlink++;
                old->meta.ctime_ns = now_ns();
            }
        }
    }
    old->release();
    return result;
}

Result<void> remove_path(const FsContext& ctx, Inode* start, const char* path, bool remove_dir) {
    Resolved r;
    TRY(resolve(ctx, start, path, 0, &r));
    if (r.node == nullptr) return Error(Errno::kENOENT);
    if (remove_dir) {
        if (r.name_len == 1 && r.name[0] == '.') return Error(Errno::kEINVAL);
        if (r.name_len == 2 && r.name[0] == '.' && r.name[1] == '.')
            return Error(Errno::kENOTEMPTY);
        if (!is_dir(r.node)) return Error(Errno::kENOTDIR);
        if (r.node == ctx.root || r.node->parent_dir() == r.node) return Error(Errno::kEBUSY);
    } else {
        if (is_dir(r.node)) return Error(Errno::kEISDIR);
    }
    Directory* parent = r.parent != nullptr ? r.parent->as_directory() : nullptr;
    if (parent == nullptr || parent->read_only()) return Error(Errno::kEACCES);
    if (remove_dir) {
        Directory* d = r.node->as_directory();
        if (d == nullptr) return Error(Errno::kEACCES);  // a kernel directory (/proc/1/fd)
        if (d->entry_count() != 0) return Error(Errno::kENOTEMPTY);
        if (d->read_only()) return Error(Errno::kEBUSY);
        TRY(parent->remove(r.last()));
        d->mark_removed();
        d->meta.nlink = 0;
    } else {
        TRY(parent->remove(r.last()));
        if (r.node->meta.nlink > 0) r.node->meta.nlink--;
        r.node->meta.ctime_ns = now_ns();
    }
    return {};
}

Result<void> rename_path(const FsContext& ctx, Inode* old_start, const char* old_path,
                         Inode* new_start, const char* new_path, unsigned flags) {
    if (flags & ~(kRenameNoReplace | kRenameExchange)) return Error(Errno::kEINVAL);
    if (flags & kRenameExchange) return Error(Errno::kEINVAL);  // FIXME: RENAME_EXCHANGE
    Resolved from, to;
    TRY(resolve(ctx, old_start, old_path, 0, &from));
    if (from.node == nullptr) return Error(Errno::kENOENT);
    auto tr = resolve(ctx, new_start, new_path, 0, &to);
    if (!tr.ok()) {
        // "dir2/" naming a file that is about to be replaced: ENOTDIR
        // (or EISDIR below) as Linux reports.
        return tr;
    }
    if (from.last_is_dot_or_dotdot() || to.last_is_dot_or_dotdot() || from.node == ctx.root)
        return Error(Errno::kEBUSY);
    Directory* src = from.parent != nullptr ? from.parent->as_directory() : nullptr;
    Directory* dst = to.parent != nullptr ? to.parent->as_directory() : nullptr;
    if (src == nullptr || dst == nullptr || src->read_only() || dst->read_only())
        return Error(Errno::kEACCES);
    if (dst->removed()) return Error(Errno::kENOENT);
    bool moving_dir = is_dir(from.node);
    if (!moving_dir && (from.trailing_slash || to.trailing_slash)) return Error(Errno::kENOTDIR);
    if (to.node != nullptr) {
        if (flags & kRenameNoReplace) return Error(Errno::kEEXIST);
        if (to.node == from.node) return {};  // the same file: nothing to do
        if (moving_dir) {
            if (!is_dir(to.node)) return Error(Errno::kENOTDIR);
            Directory* td = to.node->as_directory();
            if (td == nullptr || td->read_only()) return Error(Errno::kEBUSY);
            if (td->entry_count() != 0) return Error(Errno::kENOTEMPTY);
        } else if (is_dir(to.node)) {
            return Error(Errno::kEISDIR);
        }
    }
    if (moving_dir) {
        // A directory cannot move below itself.
        if (is_within(dst, from.node)) return Error(Errno::kEINVAL);
    }
    if (to.node != nullptr && is_dir(to.node) && to.node->parent_dir() == to.node)
        return Error(Errno::kEBUSY);

    Inode* node = from.node;
    node->retain();
    Inode* victim = to.node;
    auto placed = dst->replace(to.last(), node);
    if (!placed.ok()) {
        node->release();
        return placed;
    }
    // The source entry may have moved within its array; remove by name.
    auto removed = src->remove(from.last());
    if (!removed.ok()) {
        node->release();
        return removed;
    }
    if (victim != nullptr) {
        if (Directory* vd = victim->as_directory()) {
            vd->mark_removed();
            vd->meta.nlink = 0;
        } else if (victim->meta.nlink > 0) {
            victim->meta.nlink--;
        }
    }
    if (Directory* md = node->as_directory()) md->set_parent(dst);
    node->meta.ctime_ns = now_ns();
    node->release();
    return {};
}

}  // namespace kiln::fs
