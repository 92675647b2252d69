#include "console_port.h"

#include "abi/boot.h"
#include "log.h"

#include <errno.h>
#include <unistd.h>

namespace kiln::vmm {

void ConsolePort::handle(uint32_t request_gpa) {
    auto req = mem_.object<abi::ConsoleIo>(request_gpa);
    if (!req.ok()) return;  // nowhere to put an answer
    abi::ConsoleIo* r = *req;
    // Read the guest's fields once: it may change them while we work.
    const uint32_t stream = r->stream, len = r->len;
    const uint64_t buf = r->buf;
    if (stream > abi::kConsoleStderr) {
        r->result = -EINVAL;
        return;
    }
    auto bytes = mem_.span(buf, len);
    if (!bytes.ok()) {
        r->result = -EFAULT;
        return;
    }
    if (stream == abi::kConsoleStdin) {
        ssize_t n;
        do {
            n = read(in_fd_, bytes->data(), len);
        } while (n < 0 && errno == EINTR);
        r->result = n >= 0 ? static_cast<int64_t>(n) : -EIO;
        return;
    }
    // A closed or full pipe loses the output, not the VM.
    bool ok = write_all(stream == 1 ? out_fd_ : err_fd_, bytes->data(), len);
    r->result = ok ? static_cast<int64_t>(len) : -EIO;
}

}  // namespace kiln::vmm
