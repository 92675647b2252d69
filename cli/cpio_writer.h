// Writes cpio archives in the "new ASCII" format (cpio(5), magic "070701"),
// the format Linux's initramfs and kiln's kernel read: per entry a 110-byte
// header of 8-digit hex fields, the NUL-terminated name, padding to a
// multiple of four, the data, padding to a multiple of four; "TRAILER!!!"
// ends the archive.
//
// Names are written without a leading '/' ("usr/bin/prog"; the writer drops
// it), as cpio -o writes them; the kernel roots them at '/'.
#pragma once

#include <stdint.h>

#include <string>
#include <string_view>

namespace kiln::cli {

class CpioWriter {
public:
    // Appends to `fd` (not closed by the writer). Output is buffered: call
    // finish() and check its result.
    explicit CpioWriter(int fd);
    CpioWriter(const CpioWriter&) = delete;
    CpioWriter& operator=(const CpioWriter&) = delete;

    // `mode` holds the permission bits (07777); the writer adds the type.
    bool add_directory(std::string_view name, uint32_t mode, int64_t mtime);
    bool add_file(std::string_view name, uint32_t mode, int64_t mtime, std::string_view data);
    // Copies `size` bytes of `src_fd` from its offset 0; fails if it has fewer.
    bool add_file_from(std::string_view name, uint32_t mode, int64_t mtime, int src_fd,
                       uint64_t size);
    bool add_symlink(std::string_view name, std::string_view target, int64_t mtime);
    // Writes the trailer, pads to a multiple of 512 bytes as cpio does, and
    // flushes. False when any write failed (error() says why).
    bool finish();

    const std::string& error() const { return error_; }
    uint64_t bytes_written() const { return total_; }

private:
    bool header(std::string_view name, uint32_t mode, int64_t mtime, uint64_t size);
    bool put(const void* data, size_t n);
    bool pad();
    bool flush();
    bool fail(const std::string& why);

    int fd_;
    uint32_t next_ino_ = 1;
    uint64_t total_ = 0;
    std::string buf_;
    std::string error_;
};

// The archive name for an absolute or relative path: leading '/' removed.
std::string_view cpio_name(std::string_view path);

}  // namespace kiln::cli
