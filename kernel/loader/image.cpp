// The application named by the image: `kiln run` writes its argv and
// environment as NUL-separated files into the initrd (/.kiln/argv and
// /.kiln/env), so nothing about the program rides on the kernel command
// line.
#include "fs/inode.h"
#include "fs/vfs.h"
#include "klog.h"
#include "loader/loader.h"
#include "loader/stack.h"
#include "mm/heap.h"
#include "sched/process.h"

namespace kiln::loader {
namespace {

constexpr size_t kMaxStrings = 4096;

// A file's strings and the pointer array over them, on the heap.
struct StringList {
    char* bytes = nullptr;
    const char** ptrs = nullptr;  // NULL-ended
    size_t count = 0;
    ~StringList() {
        mm::heap_free(bytes);
        mm::heap_free(ptrs);
    }
};

Result<void> read_strings(const char* path, StringList* out, bool required) {
    auto looked_up = fs::lookup_path(path);
    if (!looked_up.ok()) {
        if (required || looked_up.error() != Errno::kENOENT) return Error(looked_up.error());
        out->ptrs = static_cast<const char**>(mm::heap_alloc(sizeof(char*)));
        if (!out->ptrs) return Error(Errno::kENOMEM);
        out->ptrs[0] = nullptr;
        return {};
    }
    fs::Inode* file = looked_up.value();
    uint64_t size = file->size();
    Result<void> result{};
    if (size >= kMaxStackImage) {
        klog::error("loader: %s: %lu bytes is more than a stack holds", path, size);
        result = Error(Errno::kE2BIG);
    } else if (!(out->bytes = static_cast<char*>(mm::heap_alloc(size + 1)))) {
        result = Error(Errno::kENOMEM);
    } else {
        auto got = file->read_at(0, out->bytes, size);
        if (!got.ok() || got.value() != size) result = Error(Errno::kEIO);
    }
    file->release();
    if (!result.ok()) return result;
    size_t n = TRY(split_strings(out->bytes, size, size + 1, nullptr, 0));
    if (n > kMaxStrings) return Error(Errno::kE2BIG);
    out->ptrs = static_cast<const char**>(mm::heap_alloc((n + 1) * sizeof(char*)));
    if (!out->ptrs) return Error(Errno::kENOMEM);
    out->count = TRY(split_strings(out->bytes, size, size + 1, out->ptrs, n));
    out->ptrs[out->count] = nullptr;
    return {};
}

}  // namespace

Result<UserEntry> exec_from_image() {
    StringList argv, env;
    TRY(read_strings("/.kiln/argv", &argv, true));
    if (argv.count == 0 || argv.ptrs[0][0] == '\0') {
        klog::error("loader: /.kiln/argv names no program");
        return Error(Errno::kENOEXEC);
    }
    TRY(read_strings("/.kiln/env", &env, false));

    // /proc/self/exe: the program's absolute path in the image.
    const char* prog = argv.ptrs[0];
    char* exe = sched::current().exe_path;
    constexpr size_t kCap = sizeof(sched::current().exe_path);
    size_t i = 0;
    if (prog[0] != '/') exe[i++] = '/';
    for (size_t j = 0; prog[j] != '\0'; ++j) {
        if (i + 1 >= kCap) {
            klog::error("loader: program path too long: %s", prog);
            return Error(Errno::kENAMETOOLONG);
        }
        exe[i++] = prog[j];
    }
    exe[i] = '\0';
    return exec(exe, argv.ptrs, env.ptrs);
}

}  // namespace kiln::loader
