// File type bits of st_mode (inode(7)); spelled out here because the UAPI
// header hides them from hosted builds that include glibc first.
#pragma once

#include <stdint.h>

#include "fs/inode.h"

namespace kiln::fs {

inline constexpr uint32_t kIfMt = 0170000;
inline constexpr uint32_t kIfSock = 0140000;
inline constexpr uint32_t kIfLnk = 0120000;
inline constexpr uint32_t kIfReg = 0100000;
inline constexpr uint32_t kIfBlk = 0060000;
inline constexpr uint32_t kIfDir = 0040000;
inline constexpr uint32_t kIfChr = 0020000;
inline constexpr uint32_t kIfIfo = 0010000;

constexpr uint32_t type_bits(InodeType t) {
    switch (t) {
    case InodeType::kRegular: return kIfReg;
    case InodeType::kDirectory: return kIfDir;
    case InodeType::kSymlink: return kIfLnk;
    case InodeType::kCharDevice: return kIfChr;
    case InodeType::kFifo: return kIfIfo;
    case InodeType::kSocket: return kIfSock;
    }
    return 0;
}

// st_mode: type and permission bits.
inline uint32_t full_mode(const Inode* n) { return type_bits(n->type()) | (n->meta.mode & 07777); }

// d_type values of getdents64 (DT_*: the type bits shifted down by 12).
constexpr uint8_t dirent_type(InodeType t) { return static_cast<uint8_t>(type_bits(t) >> 12); }

}  // namespace kiln::fs
