// The root file system (vfs.h): the initrd archives unpacked in order, then
// the directories every program may expect, the kernel's /dev, /proc and
// /sys, and default /etc files where the image has none.
#include "fs/vfs.h"

#include <linux/fcntl.h>

#include "arch/x86_64/paging.h"
#include "fs/fd.h"
#include "fs/initrd.h"
#include "fs/nodes.h"
#include "klog.h"
#include "mm/new.h"
#include "sched/process.h"

namespace kiln::fs {
namespace {

Directory* g_root = nullptr;
FsContext g_boot_ctx;  // before init_process_files: root as cwd

// nginx as root needs "nobody" (getpwnam); glibc's NSS reads these.
const char kPasswd[] =
    "root:x:0:0:root:/root:/bin/sh\n"
    "nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n";
const char kGroup[] = "root:x:0:\nnogroup:x:65534:\n";
const char kHosts[] = "127.0.0.1\tlocalhost\n::1\tlocalhost\n";
const char kNsswitch[] = "passwd: files\ngroup: files\nhosts: files dns\n";

Result<Directory*> ensure_dir(Directory* parent, const char* name, uint32_t mode, bool fresh) {
    Span<const char> n(name, __builtin_strlen(name));
    Inode* e = parent->find(n);
    if (!fresh && e != nullptr && e->as_directory() != nullptr) return e->as_directory();
    auto* d = mm::make<Directory>(parent);
    if (d == nullptr) return Error(Errno::kENOMEM);
    d->meta.mode = mode;
    auto r = parent->replace(n, d);
    d->release();
    TRY(r);
    return d;
}

Result<void> default_file(Directory* etc, const char* name, const char* text, size_t len) {
    Span<const char> n(name, __builtin_strlen(name));
    if (etc->find(n) != nullptr) return {};
    auto* f = mm::make<RegularFile>(reinterpret_cast<const uint8_t*>(text), len);
    if (f == nullptr) return Error(Errno::kENOMEM);
    auto r = etc->add(n, f);
    f->release();
    return r;
}

Result<void> build(const BootInfo& boot) {
    g_root = mm::make<Directory>(nullptr);
    if (g_root == nullptr) return Error(Errno::kENOMEM);
    for (int i = 0; i < boot.module_count; i++) {
        const MemRange& m = boot.modules[i];
        // SAFETY: the modules stay reserved for the life of the VM (the
        // frame allocator never hands them out), and are mapped by the
        // direct map; file data is used in place from them.
        Bytes image(static_cast<const uint8_t*>(arch::phys_to_virt(m.addr)), m.size);
        UnpackStats st;
        auto r = unpack_cpio(g_root, image, &st);
        if (!r.ok()) {
            klog::error("kiln: initrd module %d: %s after %zu entries", i, errno_name(r.error()),
                        st.entries);
            if (r.error() == Errno::kENOMEM) return r;
        } else {
            klog::info("kiln: initrd module %d: %zu entries (%zu skipped)", i, st.entries, st.skipped);
        }
    }
    TRY(ensure_dir(g_root, "tmp", 01777, false));
    TRY(ensure_dir(g_root, "root", 0700, false));
    Directory* dev = TRY(ensure_dir(g_root, "dev", 0755, false));
    TRY(populate_dev(dev));
    Directory* proc = TRY(ensure_dir(g_root, "proc", 0555, true));
    TRY(populate_proc(proc));
    Directory* sys = TRY(ensure_dir(g_root, "sys", 0555, true));
    TRY(populate_sys(sys));
    Directory* etc = TRY(ensure_dir(g_root, "etc", 0755, false));
    TRY(default_file(etc, "passwd", kPasswd, sizeof kPasswd - 1));
    TRY(default_file(etc, "group", kGroup, sizeof kGroup - 1));
    TRY(default_file(etc, "hosts", kHosts, sizeof kHosts - 1));
    TRY(default_file(etc, "nsswitch.conf", kNsswitch, sizeof kNsswitch - 1));
    return {};
}

const FsContext& context() {
    FsContext* c = sched::current().fs;
    return c != nullptr ? *c : g_boot_ctx;
}

}  // namespace

Result<void> mount_root(const BootInfo& boot) {
    if (g_root != nullptr) return Error(Errno::kEBUSY);
    TRY(build(boot));
    g_boot_ctx.root = g_root;
    g_boot_ctx.cwd = g_root;
    return {};
}

Inode* root() { return g_root; }

Result<Inode*> lookup_path(const char* path, bool follow_last) {
    if (g_root == nullptr) return Error(Errno::kENOENT);
    const FsContext& ctx = context();
    return resolve_existing(ctx, ctx.cwd, path, follow_last ? unsigned{kFollowLast} : 0u);
}

Result<void> init_process_files() {
    if (g_root == nullptr) return Error(Errno::kENOENT);
    sched::Process& p = sched::current();
    if (p.files == nullptr) {
        p.files = mm::make<FdTable>();
        if (p.files == nullptr) return Error(Errno::kENOMEM);
    }
    if (p.fs == nullptr) {
        p.fs = mm::make<FsContext>();
        if (p.fs == nullptr) return Error(Errno::kENOMEM);
        g_root->retain();
        g_root->retain();
        p.fs->root = g_root;
        p.fs->cwd = g_root;
    }
    static const ConsoleEnd kEnds[3] = {ConsoleEnd::kStdin, ConsoleEnd::kStdout, ConsoleEnd::kStderr};
    for (int fd = 0; fd < 3; fd++) {
        Inode* c = make_console(kEnds[fd]);
        if (c == nullptr) return Error(Errno::kENOMEM);
        File* f = File::make(c, fd == 0 ? O_RDONLY : O_WRONLY, "/dev/console");
        if (f == nullptr) {
            c->release();
            return Error(Errno::kENOMEM);
        }
        auto r = p.files->install_at(fd, f, false);
        f->release();
        TRY(r);
    }
    return {};
}

Result<File*> file_of_fd(int fd) {
    FdTable* t = sched::current().files;
    if (t == nullptr) return Error(Errno::kEBADF);
    return t->get(fd);
}

Result<Inode*> inode_of_fd(int fd) {
    File* f = TRY(file_of_fd(fd));
    f->inode()->retain();
    return f->inode();
}

FdTable& fd_table() { return *sched::current().files; }
FsContext& fs_context() {
    FsContext* c = sched::current().fs;
    return c != nullptr ? *c : g_boot_ctx;
}

}  // namespace kiln::fs
