// getdents64 records (dirent.h).
#include "fs/dirent.h"

#include "fs/mode.h"

namespace kiln::fs {

Result<size_t> fill_dirents(Inode* dir, uint64_t* pos, uint8_t* buf, size_t cap) {
    size_t used = 0;
    for (;;) {
        uint64_t at = *pos;
        DirEntry e;
        bool more = TRY(dir->read_dir(pos, &e));
        if (!more) break;
        size_t reclen = (__builtin_offsetof(LinuxDirent64, d_name) + e.name.size() + 1 + 7) & ~size_t{7};
        if (reclen > cap - used) {
            *pos = at;  // not consumed: the next call starts here
            if (used == 0) return Error(Errno::kEINVAL);
            break;
        }
        // SAFETY: buf[used, used + reclen) lies inside buf (checked above);
        // records are built bytewise, so alignment does not matter.
        uint8_t* rec = buf + used;
        uint64_t ino = e.ino;
        int64_t off = static_cast<int64_t>(*pos);
        uint16_t rl = static_cast<uint16_t>(reclen);
        __builtin_memcpy(rec + __builtin_offsetof(LinuxDirent64, d_ino), &ino, 8);
        __builtin_memcpy(rec + __builtin_offsetof(LinuxDirent64, d_off), &off, 8);
        __builtin_memcpy(rec + __builtin_offsetof(LinuxDirent64, d_reclen), &rl, 2);
        rec[__builtin_offsetof(LinuxDirent64, d_type)] = dirent_type(e.type);
        char* name = reinterpret_cast<char*>(rec + __builtin_offsetof(LinuxDirent64, d_name));
        __builtin_memcpy(name, e.name.data(), e.name.size());
        __builtin_memset(name + e.name.size(), 0, reclen - 19 - e.name.size());
        used += reclen;
    }
    return used;
}

}  // namespace kiln::fs
