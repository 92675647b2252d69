// /proc and /sys: the few files real programs read (proc(5)): /proc/self
// (→ 1), /proc/1/{exe,fd/,cmdline,stat,status}, /proc/cpuinfo, /proc/meminfo,
// /proc/sys/... and /sys/devices/system/cpu/online. Generated on each read.
#include "arch/x86_64/clock.h"
#include "fs/fd.h"
#include "fs/nodes.h"
#include "fs/vfs.h"
#include "kiln/format.h"
#include "mm/memory.h"
#include "mm/new.h"
#include "sched/process.h"

namespace kiln::fs {
namespace {

constexpr size_t kGenMax = 8192;

// A read-only file whose text is made by gen() at read time. stat sizes
// are 0, as for Linux's proc files.
class GeneratedFile final : public TreeInode {
public:
    using Gen = size_t (*)(char* buf, size_t cap, const void* arg);
    GeneratedFile(Gen gen, const void* arg) : gen_(gen), arg_(arg) { init_meta(this, 0444); }
    InodeType type() const override { return InodeType::kRegular; }
    uint64_t size() const override { return 0; }
    uint64_t bytes_readable(uint64_t) const override { return 0; }
    Result<size_t> read_at(uint64_t off, void* buf, size_t n) override {
        auto* text = static_cast<char*>(mm::heap_alloc(kGenMax, 1));
        if (text == nullptr) return Error(Errno::kENOMEM);
        size_t len = gen_(text, kGenMax, arg_);
        if (len >= kGenMax) len = kGenMax - 1;
        size_t r = 0;
        if (off < len) {
            r = len - off < n ? len - off : n;
            __builtin_memcpy(buf, text + off, r);
        }
        mm::heap_free(text);
        return r;
    }
    Result<size_t> write_at(uint64_t, const void*, size_t) override { return Error(Errno::kEACCES); }
    Result<void> truncate(uint64_t) override { return Error(Errno::kEACCES); }

private:
    Gen gen_;
    const void* arg_;
};

size_t gen_text(char* buf, size_t cap, const void* arg) {
    return format(buf, cap, "%s", static_cast<const char*>(arg));
}

// /proc/1/exe: the program's path.
class ExeLink final : public TreeInode {
public:
    ExeLink() { init_meta(this, 0777); }
    InodeType type() const override { return InodeType::kSymlink; }
    uint64_t size() const override { return 0; }
    Result<size_t> read_at(uint64_t, void*, size_t) override { return Error(Errno::kEINVAL); }
    Result<size_t> read_link(char* buf, size_t cap) override {
        const char* p = sched::current().exe_path;
        size_t n = __builtin_strlen(p);
        if (n == 0) return Error(Errno::kENOENT);
        if (n > cap) n = cap;
        __builtin_memcpy(buf, p, n);
        return n;
    }
};

// /proc/1/fd/N: names the file open at N; following it reaches that very
// inode (even unlinked, even the console).
class FdLink final : public TreeInode {
public:
    explicit FdLink(int fd) : fd_(fd) { init_meta(this, 0700); }
    InodeType type() const override { return InodeType::kSymlink; }
    uint64_t size() const override { return 64; }
    Result<size_t> read_at(uint64_t, void*, size_t) override { return Error(Errno::kEINVAL); }
    Result<size_t> read_link(char* buf, size_t cap) override {
        File* f = TRY(file_of_fd(fd_));
        const char* p = f->path();
        char tmp[32];
        if (*p == '\0') {
            format(tmp, sizeof tmp, "anon_inode:[%lu]", f->inode()->meta.ino);
            p = tmp;
        }
        size_t n = __builtin_strlen(p);
        if (n > cap) n = cap;
        __builtin_memcpy(buf, p, n);
        return n;
    }
    Inode* follow_magic() override {
        auto r = inode_of_fd(fd_);
        return r.ok() ? *r : nullptr;
    }

private:
    int fd_;
};

bool parse_fd(Span<const char> name, int* out) {
    if (name.size() == 0 || name.size() > 4) return false;
    int v = 0;
    for (char c : name) {
        if (c < '0' || c > '9') return false;
        v = v * 10 + (c - '0');
    }
    if (name.size() > 1 && name[0] == '0') return false;
    *out = v;
    return true;
}

// /proc/1/fd: one link per open descriptor.
class FdDir final : public TreeInode {
public:
    explicit FdDir(Inode* parent) : parent_(parent) {
        init_meta(this, 0500);
        meta.nlink = 2;
    }
    InodeType type() const override { return InodeType::kDirectory; }
    uint64_t size() const override { return 0; }
    Result<size_t> read_at(uint64_t, void*, size_t) override { return Error(Errno::kEISDIR); }
    Inode* parent_dir() override { return parent_; }
    Result<Inode*> lookup(Span<const char> name) override {
        int fd;
        if (!parse_fd(name, &fd) || !file_of_fd(fd).ok()) return Error(Errno::kENOENT);
        Inode* l = mm::make<FdLink>(fd);
        if (l == nullptr) return Error(Errno::kENOMEM);
        return l;
    }
    Result<bool> read_dir(uint64_t* pos, DirEntry* out) override {
        if (*pos == 0 || *pos == 1) {
            bool dot = *pos == 0;
            *out = DirEntry{dot ? meta.ino : parent_->meta.ino, InodeType::kDirectory,
                            Span<const char>("..", dot ? 1 : 2)};
            (*pos)++;
            return true;
        }
        FdTable* t = sched::current().files;
        int fd = t != nullptr ? t->next_open(static_cast<int>(*pos - 2)) : -1;
        if (fd < 0) return false;
        format(name_, sizeof name_, "%d", fd);
        *out = DirEntry{meta.ino + 1 + static_cast<uint64_t>(fd), InodeType::kSymlink,
                        Span<const char>(name_, __builtin_strlen(name_))};
        *pos = static_cast<uint64_t>(fd) + 3;
        return true;
    }

private:
    Inode* parent_;  // not retained: /proc/1 outlives it
    char name_[12] = {};
};

size_t gen_cmdline(char* buf, size_t cap, const void*) {
    // FIXME: the real argv; the loader does not record it in Process yet.
    const char* p = sched::current().exe_path;
    size_t n = __builtin_strlen(p);
    if (n + 1 > cap) n = cap - 1;
    __builtin_memcpy(buf, p, n);
    buf[n] = '\0';
    return n + 1;
}

const char* comm() {
    const char* p = sched::current().exe_path;
    const char* base = p;
    for (const char* c = p; *c; c++) {
        if (*c == '/') base = c + 1;
    }
    return *base ? base : "app";
}

uint64_t used_kib() {
    auto& fa = mm::frames();
    return (fa.total_pages() - fa.free_pages()) * 4;
}

size_t gen_stat(char* buf, size_t cap, const void*) {
    auto& p = sched::current();
    // proc(5) /proc/pid/stat: 52 fields; vsize (23) and rss (24, pages) are
    // what programs read.
    uint64_t rss_pages = used_kib() / 4;
    return format(buf, cap,
                  "%d (%.15s) R %d %d %d 0 -1 4194560 0 0 0 0 0 0 0 0 20 0 1 0 0 %lu %lu "
                  "18446744073709551615 0 0 0 0 0 0 0 0 0 0 0 0 17 0 0 0 0 0 0 0 0 0 0 0 0 0 0\n",
                  p.pid, comm(), p.ppid, p.pid, p.pid, rss_pages * 4096, rss_pages);
}

size_t gen_status(char* buf, size_t cap, const void*) {
    auto& p = sched::current();
    return format(buf, cap,
                  "Name:\t%.15s\nUmask:\t%04o\nState:\tR (running)\nTgid:\t%d\nPid:\t%d\nPPid:\t%d\n"
                  "Uid:\t%u\t%u\t%u\t%u\nGid:\t%u\t%u\t%u\t%u\nVmRSS:\t%lu kB\nThreads:\t1\n",
                  comm(), p.umask, p.pid, p.pid, p.ppid, p.uid, p.euid, p.euid, p.euid, p.gid,
                  p.egid, p.egid, p.egid, used_kib());
}

size_t gen_meminfo(char* buf, size_t cap, const void*) {
    auto& fa = mm::frames();
    uint64_t total = fa.total_pages() * 4, free = fa.free_pages() * 4;
    return format(buf, cap,
                  "MemTotal:       %8lu kB\nMemFree:        %8lu kB\nMemAvailable:   %8lu kB\n"
                  "Buffers:               0 kB\nCached:                0 kB\nSwapTotal:             0 kB\n"
                  "SwapFree:              0 kB\n",
                  total, free, free);
}

void cpuid(uint32_t leaf, uint32_t sub, uint32_t r[4]) {
    asm volatile("cpuid" : "=a"(r[0]), "=b"(r[1]), "=c"(r[2]), "=d"(r[3]) : "a"(leaf), "c"(sub));
}

struct Flag {
    uint8_t reg;  // 0: leaf 1 EDX, 1: leaf 1 ECX, 2: leaf 7 EBX, 3: 0x80000001 EDX, 4: 0x80000001 ECX
    uint8_t bit;
    const char* name;
};
// Intel SDM vol. 2A, CPUID feature bits, with the names Linux prints.
constexpr Flag kFlags[] = {
    {0, 0, "fpu"},      {0, 4, "tsc"},       {0, 5, "msr"},         {0, 6, "pae"},
    {0, 8, "cx8"},      {0, 9, "apic"},      {0, 11, "sep"},        {0, 15, "cmov"},
    {0, 16, "pat"},     {0, 19, "clflush"},  {0, 23, "mmx"},        {0, 24, "fxsr"},
    {0, 25, "sse"},     {0, 26, "sse2"},     {0, 28, "ht"},         {3, 11, "syscall"},
    {3, 20, "nx"},      {3, 26, "pdpe1gb"},  {3, 27, "rdtscp"},     {3, 29, "lm"},
    {1, 0, "pni"},      {1, 1, "pclmulqdq"}, {1, 9, "ssse3"},       {1, 12, "fma"},
    {1, 13, "cx16"},    {1, 19, "sse4_1"},   {1, 20, "sse4_2"},     {1, 22, "movbe"},
    {1, 23, "popcnt"},  {1, 25, "aes"},      {1, 26, "xsave"},      {1, 28, "avx"},
    {1, 29, "f16c"},    {1, 30, "rdrand"},   {1, 31, "hypervisor"}, {4, 0, "lahf_lm"},
    {4, 5, "abm"},      {4, 8, "3dnowprefetch"}, {2, 0, "fsgsbase"}, {2, 3, "bmi1"},
    {2, 5, "avx2"},     {2, 7, "smep"},      {2, 8, "bmi2"},        {2, 9, "erms"},
    {2, 16, "avx512f"}, {2, 18, "rdseed"},   {2, 19, "adx"},        {2, 20, "smap"},
    {2, 29, "sha_ni"},
};

size_t gen_cpuinfo(char* buf, size_t cap, const void*) {
    uint32_t r[4];
    cpuid(0, 0, r);
    uint32_t max_leaf = r[0];
    char vendor[13];
    __builtin_memcpy(vendor, &r[1], 4);
    __builtin_memcpy(vendor + 4, &r[3], 4);
    __builtin_memcpy(vendor + 8, &r[2], 4);
    vendor[12] = '\0';
    uint32_t l1[4], l7[4] = {}, e1[4] = {};
    cpuid(1, 0, l1);
    if (max_leaf >= 7) cpuid(7, 0, l7);
    cpuid(0x80000000, 0, r);
    uint32_t max_ext = r[0];
    if (max_ext >= 0x80000001) cpuid(0x80000001, 0, e1);
    char brand[49] = "unknown";
    if (max_ext >= 0x80000004) {
        for (uint32_t i = 0; i < 3; i++) {
            cpuid(0x80000002 + i, 0, r);
            __builtin_memcpy(brand + 16 * i, r, 16);
        }
        brand[48] = '\0';
    }
    const char* model_name = brand;
    while (*model_name == ' ') model_name++;
    uint32_t family = (l1[0] >> 8) & 0xf, model = (l1[0] >> 4) & 0xf, stepping = l1[0] & 0xf;
    if (family == 0xf) family += (l1[0] >> 20) & 0xff;
    if (family == 0x6 || family >= 0xf) model |= ((l1[0] >> 16) & 0xf) << 4;
    uint64_t mhz = arch::tsc_hz() / 1000000;
    size_t n = format(buf, cap,
                      "processor\t: 0\nvendor_id\t: %s\ncpu family\t: %u\nmodel\t\t: %u\n"
                      "model name\t: %s\nstepping\t: %u\ncpu MHz\t\t: %lu.000\ncache size\t: 0 KB\n"
                      "physical id\t: 0\nsiblings\t: 1\ncore id\t\t: 0\ncpu cores\t: 1\n"
                      "apicid\t\t: 0\nfpu\t\t: yes\nfpu_exception\t: yes\ncpuid level\t: %u\n"
                      "wp\t\t: yes\nflags\t\t:",
                      vendor, family, model, model_name, stepping, mhz, max_leaf);
    const uint32_t regs[5] = {l1[3], l1[2], l7[1], e1[3], e1[2]};
    for (const Flag& f : kFlags) {
        if (n < cap && (regs[f.reg] >> f.bit) & 1) n += format(buf + n, cap - n, " %s", f.name);
    }
    if (n < cap)
        n += format(buf + n, cap - n, "\nbogomips\t: %lu.00\nclflush size\t: 64\ncache_alignment\t: 64\n"
                    "address sizes\t: 46 bits physical, 48 bits virtual\n\n", mhz * 2);
    return n;
}

size_t gen_clocksource(char* buf, size_t cap, const void*) {
    return format(buf, cap, "%s\n", arch::clock_source());
}

Result<void> add(Directory* dir, const char* name, Inode* node) {
    if (node == nullptr) return Error(Errno::kENOMEM);
    auto r = dir->replace(Span<const char>(name, __builtin_strlen(name)), node);
    node->release();
    return r;
}

Result<Directory*> subdir(Directory* dir, const char* name) {
    Span<const char> n(name, __builtin_strlen(name));
    if (Inode* e = dir->find(n)) {
        if (Directory* d = e->as_directory()) return d;
    }
    auto* d = mm::make<Directory>(dir);
    if (d == nullptr) return Error(Errno::kENOMEM);
    d->meta.mode = 0555;
    auto r = dir->replace(n, d);
    d->release();
    TRY(r);
    return d;
}

Result<void> add_gen(Directory* dir, const char* name, GeneratedFile::Gen gen, const void* arg = nullptr) {
    return add(dir, name, mm::make<GeneratedFile>(gen, arg));
}

// Makes dirs along `path` (relative, '/'-separated) and a text file at its end.
Result<void> add_text_at(Directory* base, const char* path, const char* text) {
    char comp[64];
    Directory* d = base;
    const char* p = path;
    for (;;) {
        const char* slash = p;
        while (*slash && *slash != '/') slash++;
        size_t len = static_cast<size_t>(slash - p);
        if (len >= sizeof comp) return Error(Errno::kENAMETOOLONG);
        __builtin_memcpy(comp, p, len);
        comp[len] = '\0';
        if (*slash == '\0') return add_gen(d, comp, gen_text, text);
        d = TRY(subdir(d, comp));
        p = slash + 1;
    }
}

// Marks a finished kernel directory tree read-only.
void seal_tree(Directory* d) {
    uint64_t pos = 2;
    DirEntry e;
    for (;;) {
        auto more = d->read_dir(&pos, &e);
        if (!more.ok() || !*more) break;
        Inode* c = d->find(e.name);
        if (c != nullptr && c->as_directory() != nullptr) seal_tree(c->as_directory());
    }
    d->set_read_only(true);
}

}  // namespace

Inode* make_text_file(const char* text) { return mm::make<GeneratedFile>(gen_text, text); }

Result<void> populate_proc(Directory* proc) {
    Directory* pid = TRY(subdir(proc, "1"));
    TRY(add(proc, "self", Symlink::make(Span<const char>("1", 1))));
    TRY(add(proc, "thread-self", Symlink::make(Span<const char>("1/task/1", 8))));
    TRY(add(pid, "exe", mm::make<ExeLink>()));
    TRY(add(pid, "fd", mm::make<FdDir>(pid)));
    TRY(add_gen(pid, "cmdline", gen_cmdline));
    TRY(add_gen(pid, "stat", gen_stat));
    TRY(add_gen(pid, "status", gen_status));
    TRY(add_gen(pid, "comm", [](char* buf, size_t cap, const void*) {
        return format(buf, cap, "%.15s\n", comm());
    }));
    TRY(add_gen(proc, "cpuinfo", gen_cpuinfo));
    TRY(add_gen(proc, "meminfo", gen_meminfo));
    TRY(add_text_at(proc, "sys/vm/overcommit_memory", "0\n"));
    TRY(add_text_at(proc, "sys/kernel/pid_max", "32768\n"));
    TRY(add_text_at(proc, "sys/kernel/ostype", "Linux\n"));
    TRY(add_text_at(proc, "sys/kernel/hostname", "kiln\n"));
    TRY(add_text_at(proc, "sys/kernel/random/boot_id", "6b696c6e-0000-4000-8000-000000000001\n"));
    TRY(add_text_at(proc, "sys/net/core/somaxconn", "4096\n"));
    TRY(add_text_at(proc, "sys/fs/file-max", "1024\n"));
    TRY(add_text_at(proc, "mounts", "rootfs / rootfs rw 0 0\nproc /proc proc rw 0 0\n"));
    TRY(add_text_at(proc, "filesystems", "nodev\trootfs\nnodev\tproc\nnodev\ttmpfs\n"));
    seal_tree(proc);
    return {};
}

Result<void> populate_sys(Directory* sys) {
    TRY(add_text_at(sys, "devices/system/cpu/online", "0\n"));
    TRY(add_text_at(sys, "devices/system/cpu/possible", "0\n"));
    TRY(add_text_at(sys, "devices/system/cpu/present", "0\n"));
    TRY(add_text_at(sys, "kernel/mm/transparent_hugepage/enabled", "always madvise [never]\n"));
    Directory* cs = sys;
    static const char* const kPath[] = {"devices", "system", "clocksource", "clocksource0"};
    for (const char* c : kPath) cs = TRY(subdir(cs, c));
    TRY(add_gen(cs, "current_clocksource", gen_clocksource));
    seal_tree(sys);
    return {};
}

}  // namespace kiln::fs
