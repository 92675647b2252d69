// Unpacking cpio newc archives (lib/kiln/cpio.h) into the in-memory tree, as
// Linux unpacks an initramfs: entries in order, later ones replacing earlier
// ones of the same name, parent directories made when missing. File bytes
// stay in the archive (used in place until written), so the archive must
// outlive the tree and is never modified.
#pragma once

#include "fs/tree.h"
#include "kiln/span.h"

namespace kiln::fs {

struct UnpackStats {
    size_t entries = 0;
    size_t skipped = 0;  // device nodes, fifos, sockets, names with ".."
};

// Unpacks every archive in `image` (concatenated archives and NUL padding
// between them are allowed) below root. EINVAL for a malformed archive
// (entries before the bad one stay), ENOMEM when memory runs out.
Result<void> unpack_cpio(Directory* root, Bytes image, UnpackStats* stats = nullptr);

}  // namespace kiln::fs
