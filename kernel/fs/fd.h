// The current process's descriptors and working directory, for the syscall
// families and for mm (file-backed mmap reads through inode_of_fd).
#pragma once

#include "fs/file.h"
#include "fs/path.h"

namespace kiln::fs {

// The File open at fd in the current process (not retained: valid until
// the fd is closed). EBADF when fd is not open.
Result<File*> file_of_fd(int fd);
// The inode behind fd, retained (release() it when done). EBADF when fd
// is not open. For mmap: check type() == kRegular (else ENODEV/EACCES)
// and the File's access mode via file_of_fd.
Result<Inode*> inode_of_fd(int fd);

// The current process's tables (set up by init_process_files).
FdTable& fd_table();
FsContext& fs_context();

// The root of the tree (retained by the tree itself).
Inode* root();

}  // namespace kiln::fs
