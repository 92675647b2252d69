// Changes to the tree by path, with the errors Linux gives (mkdir(2),
// unlink(2), rmdir(2), rename(2), link(2), symlink(2)). Paths resolve as in
// path.h from `start` for relative ones. Modes arrive with the umask applied.
#pragma once

#include <stdint.h>

#include "fs/path.h"

namespace kiln::fs {

Result<void> make_directory(const FsContext& ctx, Inode* start, const char* path, uint32_t mode);
// A regular file that must not exist yet (mknod with S_IFREG).
Result<void> make_file(const FsContext& ctx, Inode* start, const char* path, uint32_t mode);
Result<void> make_symlink(const FsContext& ctx, const char* target, Inode* start,
                          const char* linkpath);
// follow: AT_SYMLINK_FOLLOW for the old path.
Result<void> make_link(const FsContext& ctx, Inode* old_start, const char* old_path,
                       Inode* new_start, const char* new_path, bool follow);
// remove_dir false: unlink (EISDIR for directories); true: rmdir.
Result<void> remove_path(const FsContext& ctx, Inode* start, const char* path, bool remove_dir);

inline constexpr unsigned kRenameNoReplace = 1;  // RENAME_NOREPLACE
inline constexpr unsigned kRenameExchange = 2;   // RENAME_EXCHANGE (EINVAL: not supported)
Result<void> rename_path(const FsContext& ctx, Inode* old_start, const char* old_path,
                         Inode* new_start, const char* new_path, unsigned flags);

}  // namespace kiln::fs
