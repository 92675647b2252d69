// User and group ids with the rules of setuid(2), setreuid(2),
// setresuid(2) and setfsuid(2) (the gid calls are the same rules on the
// group ids). A process is privileged (CAP_SETUID / CAP_SETGID) while its
// effective user id is 0, as under Linux without file capabilities. kiln
// starts the app as root, so the usual "drop to nobody" works and is final.
// Pure, host-tested.
#pragma once

#include <stdint.h>

#include "kiln/result.h"

namespace kiln::sys {

// (uid_t)-1 in an argument means "leave unchanged".
inline constexpr uint32_t kIdUnchanged = 0xffffffffu;

struct IdSet {
    uint32_t real = 0;
    uint32_t effective = 0;
    uint32_t saved = 0;
    uint32_t fs = 0;
};

// Each returns the new ids or EPERM; `privileged` is the capability for the
// kind of id (euid == 0 for both).
Result<IdSet> apply_setid(const IdSet& ids, uint32_t id, bool privileged);
Result<IdSet> apply_setreid(const IdSet& ids, uint32_t real, uint32_t effective, bool privileged);
Result<IdSet> apply_setresid(const IdSet& ids, uint32_t real, uint32_t effective, uint32_t saved,
                             bool privileged);
// setfsuid(2) never fails: it returns the old fs id and changes it only when
// allowed; *out receives the new ids.
uint32_t apply_setfsid(const IdSet& ids, uint32_t fs, bool privileged, IdSet* out);

}  // namespace kiln::sys
