#include "cpio_writer.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

namespace kiln::cli {

namespace {

constexpr size_t kBufferSize = 256 * 1024;
constexpr uint64_t kMaxFileSize = 0xffffffffu;  // c_filesize is 8 hex digits

}  // namespace

std::string_view cpio_name(std::string_view path) {
    while (!path.empty() && path.front() == '/') path.remove_prefix(1);
    return path;
}

CpioWriter::CpioWriter(int fd) : fd_(fd) {
    buf_.reserve(kBufferSize);
}

bool CpioWriter::fail(const std::string& why) {
    if (error_.empty()) error_ = why;
    return false;
}

bool CpioWriter::flush() {
    size_t done = 0;
    while (done < buf_.size()) {
        ssize_t n = write(fd_, buf_.data() + done, buf_.size() - done);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return fail(std::string("write: ") + strerror(n < 0 ? errno : EIO));
        done += n;
    }
    buf_.clear();
    return true;
}

bool CpioWriter::put(const void* data, size_t n) {
    if (!error_.empty()) return false;
    total_ += n;
    if (buf_.size() + n > kBufferSize && !flush()) return false;
    if (n >= kBufferSize) {
        buf_.assign(static_cast<const char*>(data), n);
        return flush();
    }
    buf_.append(static_cast<const char*>(data), n);
    return true;
}

bool CpioWriter::pad() {
    static const char zeros[4] = {};
    size_t rem = total_ % 4;
    return rem == 0 || put(zeros, 4 - rem);
}

bool CpioWriter::header(std::string_view name, uint32_t mode, int64_t mtime, uint64_t size) {
    name = cpio_name(name);
    if (name.empty() || name.find('\0') != std::string_view::npos) {
        return fail("bad archive name '" + std::string(name) + "'");
    }
    if (size > kMaxFileSize) {
        return fail("'" + std::string(name) + "' is larger than the 4 GiB a cpio entry holds");
    }
    bool dir = (mode & S_IFMT) == S_IFDIR;
    uint32_t mt = mtime < 0 ? 0 : mtime > 0xffffffffll ? 0xffffffffu : uint32_t(mtime);
    char h[111];
    // magic ino mode uid gid nlink mtime filesize devmajor devminor
    // rdevmajor rdevminor namesize check
    snprintf(h, sizeof(h), "070701%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X",
             next_ino_++, mode, 0u, 0u, dir ? 2u : 1u, mt, uint32_t(size), 0u, 0u, 0u, 0u,
             uint32_t(name.size() + 1), 0u);
    if (!put(h, 110) || !put(name.data(), name.size()) || !put("", 1)) return false;
    return pad();
}

bool CpioWriter::add_directory(std::string_view name, uint32_t mode, int64_t mtime) {
    return header(name, S_IFDIR | (mode & 07777), mtime, 0);
}

bool CpioWriter::add_file(std::string_view name, uint32_t mode, int64_t mtime,
                          std::string_view data) {
    return header(name, S_IFREG | (mode & 07777), mtime, data.size()) &&
           put(data.data(), data.size()) && pad();
}

bool CpioWriter::add_file_from(std::string_view name, uint32_t mode, int64_t mtime, int src_fd,
                               uint64_t size) {
    if (!header(name, S_IFREG | (mode & 07777), mtime, size)) return false;
    uint64_t done = 0;
    while (done < size) {
        if (buf_.size() == kBufferSize && !flush()) return false;
        size_t room = kBufferSize - buf_.size();
        size_t want = size - done < room ? size_t(size - done) : room;
        size_t old = buf_.size();
        buf_.resize(old + want);
        ssize_t n = pread(src_fd, buf_.data() + old, want, done);
        if (n < 0 && errno == EINTR) {
            buf_.resize(old);
            continue;
        }
        if (n <= 0) {
            buf_.resize(old);
            return fail("read '" + std::string(name) +
                        "': " + (n < 0 ? strerror(errno) : "file shrank while packing"));
        }
        buf_.resize(old + n);
        done += n;
        total_ += n;
    }
    return pad();
}

bool CpioWriter::add_symlink(std::string_view name, std::string_view target, int64_t mtime) {
    return header(name, S_IFLNK | 0777, mtime, target.size()) &&
           put(target.data(), target.size()) && pad();
}

bool CpioWriter::finish() {
    if (!header("TRAILER!!!", 0, 0, 0)) return false;
    static const char zeros[512] = {};
    size_t rem = total_ % 512;
    if (rem != 0 && !put(zeros, 512 - rem)) return false;
    return flush();
}

}  // namespace kiln::cli
