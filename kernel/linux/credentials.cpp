#include "linux/credentials.h"

namespace kiln::sys {
namespace {

bool is_one_of(uint32_t id, const IdSet& ids) {
    return id == ids.real || id == ids.effective || id == ids.saved;
}

}  // namespace

Result<IdSet> apply_setid(const IdSet& ids, uint32_t id, bool privileged) {
    if (id == kIdUnchanged) return Error(Errno::kEINVAL);
    IdSet n = ids;
    if (privileged) {
        n.real = n.effective = n.saved = id;
    } else if (id == ids.real || id == ids.saved) {
        n.effective = id;
    } else {
        return Error(Errno::kEPERM);
    }
    n.fs = n.effective;
    return n;
}

Result<IdSet> apply_setreid(const IdSet& ids, uint32_t real, uint32_t effective, bool privileged) {
    IdSet n = ids;
    if (real != kIdUnchanged) {
        if (!privileged && real != ids.real && real != ids.effective) {
            return Error(Errno::kEPERM);
        }
        n.real = real;
    }
    if (effective != kIdUnchanged) {
        if (!privileged && !is_one_of(effective, ids)) return Error(Errno::kEPERM);
        n.effective = effective;
    }
    // "If the real user ID is set or the effective user ID is set to a value
    // not equal to the previous real user ID, the saved set-user-ID will be
    // set to the new effective user ID."
    if (real != kIdUnchanged || (effective != kIdUnchanged && effective != ids.real)) {
        n.saved = n.effective;
    }
    n.fs = n.effective;
    return n;
}

Result<IdSet> apply_setresid(const IdSet& ids, uint32_t real, uint32_t effective, uint32_t saved,
                             bool privileged) {
    if (!privileged) {
        const uint32_t wanted[] = {real, effective, saved};
        for (uint32_t id : wanted) {
            if (id != kIdUnchanged && !is_one_of(id, ids)) return Error(Errno::kEPERM);
        }
    }
    IdSet n = ids;
    if (real != kIdUnchanged) n.real = real;
    if (effective != kIdUnchanged) n.effective = effective;
    if (saved != kIdUnchanged) n.saved = saved;
    n.fs = n.effective;
    return n;
}

uint32_t apply_setfsid(const IdSet& ids, uint32_t fs, bool privileged, IdSet* out) {
    *out = ids;
    if (fs != kIdUnchanged && (privileged || is_one_of(fs, ids) || fs == ids.fs)) out->fs = fs;
    return ids.fs;
}

}  // namespace kiln::sys
