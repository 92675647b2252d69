// Path resolution as path_resolution(7) describes it: absolute paths from
// the root, relative ones from a start directory; ".", ".."; symlinks
// (absolute and relative, at most 40 per resolution, else ELOOP); trailing
// slashes (the last component must then be a directory); ENAMETOOLONG past
// PATH_MAX (4096 with the NUL) or NAME_MAX (255) per component.
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "fs/inode.h"

namespace kiln::fs {

inline constexpr int kMaxSymlinks = 40;

// The root and working directory of a process (both retained).
struct FsContext {
    Inode* root = nullptr;
    Inode* cwd = nullptr;
};

enum ResolveFlags : unsigned {
    kFollowLast = 1u << 0,  // follow a symlink in the last component
};

// What resolution found. parent and node are retained (release with
// reset()); name is the last component as written after following links.
struct Resolved {
    Inode* parent = nullptr;  // the directory holding the last component
    Inode* node = nullptr;    // nullptr: the last component does not exist
    char name[kNameMax + 1] = {};
    size_t name_len = 0;
    bool trailing_slash = false;  // the path ended in '/' (or "/." etc.)

    Resolved() = default;
    Resolved(const Resolved&) = delete;
    Resolved& operator=(const Resolved&) = delete;
    ~Resolved() { reset(); }
    void reset();
    Span<const char> last() const { return Span<const char>(name, name_len); }
    bool last_is_dot_or_dotdot() const;
};

// Resolves path (NUL-terminated) from `start` (a directory; ignored for
// absolute paths). Every component but the last must exist (ENOENT) and be
// a directory (ENOTDIR). A missing last component is not an error: node is
// nullptr and parent/name say where it would go. An existing last component
// that is not a directory, given a trailing slash, is ENOTDIR; with
// kFollowLast unset a final symlink is returned itself (unless a trailing
// slash asks for the directory it names). ENOENT for an empty path.
Result<void> resolve(const FsContext& ctx, Inode* start, const char* path, unsigned flags,
                     Resolved* out);

// resolve() for a path that must exist: the node, retained.
Result<Inode*> resolve_existing(const FsContext& ctx, Inode* start, const char* path,
                                unsigned flags);

// The absolute path of a directory (walking ".." up to ctx.root) into buf;
// returns its length. ENOENT for a removed directory, ERANGE when it does
// not fit in cap (with the NUL).
Result<size_t> directory_path(const FsContext& ctx, Inode* dir, char* buf, size_t cap);

}  // namespace kiln::fs
