// kernel/fs on the host: the in-memory tree, path resolution (path_resolution(7)),
// the tree operations with Linux's errors, copy-on-write from initrd bytes,
// descriptor tables and getdents64 records.
#define KILN_HOSTED_NEW 1  // <new> comes with gtest
#include <gtest/gtest.h>

#include <string.h>

#include <string>
#include <vector>

#include "fs/dirent.h"
#include "fs/file.h"
#include "fs/initrd.h"
#include "fs/ops.h"
#include "fs/path.h"
#include "fs/tree.h"
#include "fs_test_support.h"
#include "mm/new.h"

using namespace kiln;
using namespace kiln::fs;

namespace {

constexpr uint32_t kOCreat = 0100, kOExcl = 0200, kOTrunc = 01000, kORdwr = 2, kOWronly = 1;
constexpr uint32_t kODirectory = 0200000, kONofollow = 0400000;

class FsTest : public ::testing::Test {
protected:
    void SetUp() override {
        kiln_test::use_malloc_heap();
        root_ = mm::make<Directory>(nullptr);
        ctx_.root = root_;
        ctx_.cwd = root_;
    }
    void TearDown() override { root_->release(); }

    Errno err(Result<void> r) { return r.ok() ? Errno(0) : r.error(); }
    Errno mkdir(const char* p) { return err(make_directory(ctx_, ctx_.cwd, p, 0755)); }
    Errno touch(const char* p) { return err(make_file(ctx_, ctx_.cwd, p, 0644)); }
    Errno symlink(const char* target, const char* p) {
        return err(make_symlink(ctx_, target, ctx_.cwd, p));
    }
    Errno unlink(const char* p) { return err(remove_path(ctx_, ctx_.cwd, p, false)); }
    Errno rmdir(const char* p) { return err(remove_path(ctx_, ctx_.cwd, p, true)); }
    Errno rename(const char* a, const char* b, unsigned flags = 0) {
        return err(rename_path(ctx_, ctx_.cwd, a, ctx_.cwd, b, flags));
    }
    // The node at p (released right away: the tree keeps it alive), or null
    // with the error in *e.
    Inode* find(const char* p, bool follow = true, Errno* e = nullptr) {
        auto r = resolve_existing(ctx_, ctx_.cwd, p, follow ? unsigned{kFollowLast} : 0u);
        if (!r.ok()) {
            if (e) *e = r.error();
            return nullptr;
        }
        (*r)->release();
        return *r;
    }
    Errno lookup_error(const char* p, bool follow = true) {
        Errno e = Errno(0);
        find(p, follow, &e);
        return e;
    }
    std::string read_all(Inode* n) {
        std::string s(n->size(), '\0');
        auto r = n->read_at(0, s.data(), s.size());
        EXPECT_TRUE(r.ok());
        s.resize(r.ok() ? *r : 0);
        return s;
    }
    void write(const char* p, const std::string& data) {
        auto f = open_path(ctx_, ctx_.cwd, p, kOCreat | kOWronly | kOTrunc, 0644);
        ASSERT_TRUE(f.ok());
        ASSERT_EQ((*f)->inode()->write_at(0, data.data(), data.size()).value(), data.size());
        (*f)->release();
    }
    std::vector<std::string> list(const char* p) {
        std::vector<std::string> names;
        Inode* d = find(p);
        uint64_t pos = 0;
        DirEntry e;
        while (d->read_dir(&pos, &e).value()) names.emplace_back(e.name.data(), e.name.size());
        return names;
    }

    Directory* root_ = nullptr;
    FsContext ctx_;
};

}  // namespace

TEST_F(FsTest, CreatesAndFindsNestedEntries) {
    EXPECT_EQ(mkdir("/a"), Errno(0));
    EXPECT_EQ(mkdir("/a/b"), Errno(0));
    EXPECT_EQ(touch("/a/b/f"), Errno(0));
    EXPECT_NE(find("/a/b/f"), nullptr);
    EXPECT_EQ(find("/a/b/f")->type(), InodeType::kRegular);
    EXPECT_EQ(find("a//b///f"), find("/a/b/f"));
    EXPECT_EQ(mkdir("/a"), Errno::kEEXIST);
    EXPECT_EQ(touch("/a/b/f"), Errno::kEEXIST);
    EXPECT_EQ(mkdir("/nope/x"), Errno::kENOENT);
    EXPECT_EQ(mkdir("/a/b/f/x"), Errno::kENOTDIR);
    EXPECT_EQ(find("/a")->meta.nlink, 3u);  // ".", the entry in /, and b's ".."
    EXPECT_EQ(find("/a/b/f")->meta.nlink, 1u);
}

TEST_F(FsTest, DotAndDotDot) {
    ASSERT_EQ(mkdir("/a"), Errno(0));
    ASSERT_EQ(mkdir("/a/b"), Errno(0));
    EXPECT_EQ(find("/a/b/.."), find("/a"));
    EXPECT_EQ(find("/a/./b/../b/."), find("/a/b"));
    EXPECT_EQ(find("/.."), root_);
    EXPECT_EQ(find("/../../a"), find("/a"));
    EXPECT_EQ(find("/"), root_);
    EXPECT_EQ(find("//"), root_);
    ctx_.cwd = find("/a/b");
    EXPECT_EQ(find(".."), find("/a"));
    EXPECT_EQ(find("."), find("/a/b"));
    EXPECT_EQ(lookup_error(""), Errno::kENOENT);
}

TEST_F(FsTest, TrailingSlashes) {
    ASSERT_EQ(mkdir("/d"), Errno(0));
    ASSERT_EQ(touch("/f"), Errno(0));
    EXPECT_EQ(find("/d/"), find("/d"));
    EXPECT_EQ(lookup_error("/f/"), Errno::kENOTDIR);
    EXPECT_EQ(lookup_error("/f/."), Errno::kENOTDIR);
    EXPECT_EQ(lookup_error("/f/x"), Errno::kENOTDIR);
    EXPECT_EQ(mkdir("/e/"), Errno(0));  // mkdir accepts a trailing slash
    EXPECT_EQ(touch("/g/"), Errno::kENOENT);
    EXPECT_EQ(unlink("/f/"), Errno::kENOTDIR);
    auto o = open_path(ctx_, root_, "/h/", kOCreat | kOWronly, 0644);
    ASSERT_FALSE(o.ok());
    EXPECT_EQ(o.error(), Errno::kEISDIR);
}

TEST_F(FsTest, Symlinks) {
    ASSERT_EQ(mkdir("/usr"), Errno(0));
    ASSERT_EQ(mkdir("/usr/lib"), Errno(0));
    ASSERT_EQ(touch("/usr/lib/libc.so"), Errno(0));
    ASSERT_EQ(symlink("usr/lib", "/lib"), Errno(0));            // relative
    ASSERT_EQ(symlink("/usr/lib/libc.so", "/abs"), Errno(0));   // absolute
    ASSERT_EQ(symlink("../lib/libc.so", "/usr/lib/up"), Errno(0));
    ASSERT_EQ(symlink("lib", "/lib2"), Errno(0));  // a chain
    EXPECT_EQ(find("/lib/libc.so"), find("/usr/lib/libc.so"));
    EXPECT_EQ(find("/abs"), find("/usr/lib/libc.so"));
    EXPECT_EQ(find("/abs", false)->type(), InodeType::kSymlink);
    EXPECT_EQ(find("/usr/lib/up"), find("/usr/lib/libc.so"));
    EXPECT_EQ(find("/lib2/libc.so"), find("/usr/lib/libc.so"));
    EXPECT_EQ(find("/lib/"), find("/usr/lib"));
    EXPECT_EQ(find("/lib/", false), find("/usr/lib"));  // a slash follows the link
    // ".." after a symlink is the target's parent, not the link's.
    EXPECT_EQ(find("/lib/.."), find("/usr"));
    ASSERT_EQ(symlink("/nowhere", "/dangling"), Errno(0));
    EXPECT_EQ(lookup_error("/dangling"), Errno::kENOENT);
    EXPECT_NE(find("/dangling", false), nullptr);
    char buf[64];
    auto n = find("/lib", false)->read_link(buf, sizeof buf);
    ASSERT_TRUE(n.ok());
    EXPECT_EQ(std::string(buf, *n), "usr/lib");
    EXPECT_EQ(symlink("", "/empty"), Errno::kENOENT);
    // O_CREAT through a dangling link creates its target.
    auto f = open_path(ctx_, root_, "/dangling", kOCreat | kOWronly, 0644);
    ASSERT_TRUE(f.ok());
    (*f)->release();
    EXPECT_NE(find("/nowhere"), nullptr);
}

TEST_F(FsTest, SymlinkLoops) {
    ASSERT_EQ(symlink("/b", "/a"), Errno(0));
    ASSERT_EQ(symlink("/a", "/b"), Errno(0));
    ASSERT_EQ(symlink("self", "/self"), Errno(0));
    EXPECT_EQ(lookup_error("/a"), Errno::kELOOP);
    EXPECT_EQ(lookup_error("/self/x"), Errno::kELOOP);
    EXPECT_NE(find("/a", false), nullptr);
    // 40 links in a chain resolve; 41 do not.
    ASSERT_EQ(mkdir("/t"), Errno(0));
    for (int i = 0; i < 41; i++) {
        std::string from = "/l" + std::to_string(i);
        std::string to = i == 0 ? "/t" : "/l" + std::to_string(i - 1);
        ASSERT_EQ(symlink(to.c_str(), from.c_str()), Errno(0));
    }
    EXPECT_EQ(find("/l39"), find("/t"));
    EXPECT_EQ(lookup_error("/l40"), Errno::kELOOP);
}

TEST_F(FsTest, NameAndPathLimits) {
    std::string name(255, 'n');
    EXPECT_EQ(touch(("/" + name).c_str()), Errno(0));
    EXPECT_EQ(touch(("/" + name + "x").c_str()), Errno::kENAMETOOLONG);
    std::string longp = "/";
    while (longp.size() < 4096) longp += "./";
    EXPECT_EQ(lookup_error(longp.c_str()), Errno::kENAMETOOLONG);
    std::string okp = "/";
    while (okp.size() < 4000) okp += "./";
    EXPECT_EQ(find(okp.c_str()), root_);
}

TEST_F(FsTest, OpenFlags) {
    ASSERT_EQ(mkdir("/d"), Errno(0));
    ASSERT_EQ(touch("/f"), Errno(0));
    ASSERT_EQ(symlink("/f", "/l"), Errno(0));
    auto e = [&](const char* p, uint32_t flags) {
        auto r = open_path(ctx_, root_, p, flags, 0644);
        if (r.ok()) {
            (*r)->release();
            return Errno(0);
        }
        return r.error();
    };
    EXPECT_EQ(e("/missing", 0), Errno::kENOENT);
    EXPECT_EQ(e("/f", kOCreat | kOExcl), Errno::kEEXIST);
    EXPECT_EQ(e("/l", kOCreat | kOExcl), Errno::kEEXIST);
    EXPECT_EQ(e("/l", kONofollow), Errno::kELOOP);
    EXPECT_EQ(e("/l", 0), Errno(0));
    EXPECT_EQ(e("/f", kODirectory), Errno::kENOTDIR);
    EXPECT_EQ(e("/d", kODirectory), Errno(0));
    EXPECT_EQ(e("/d", kOWronly), Errno::kEISDIR);
    EXPECT_EQ(e("/d", kOCreat), Errno::kEISDIR);
    EXPECT_EQ(e("/new", kOCreat | kOExcl | kORdwr), Errno(0));
    auto f = open_path(ctx_, root_, "/d/../new", 0, 0);
    ASSERT_TRUE(f.ok());
    EXPECT_STREQ((*f)->path(), "/new");
    (*f)->release();
    write("/f", "hello");
    EXPECT_EQ(find("/f")->size(), 5u);
    EXPECT_EQ(e("/f", kOTrunc | kOWronly), Errno(0));
    EXPECT_EQ(find("/f")->size(), 0u);
}

TEST_F(FsTest, UnlinkAndRmdir) {
    ASSERT_EQ(mkdir("/d"), Errno(0));
    ASSERT_EQ(touch("/d/f"), Errno(0));
    EXPECT_EQ(rmdir("/d"), Errno::kENOTEMPTY);
    EXPECT_EQ(unlink("/d"), Errno::kEISDIR);
    EXPECT_EQ(rmdir("/d/f"), Errno::kENOTDIR);
    EXPECT_EQ(rmdir("/d/."), Errno::kEINVAL);
    EXPECT_EQ(rmdir("/d/.."), Errno::kENOTEMPTY);
    EXPECT_EQ(rmdir("/"), Errno::kEBUSY);
    EXPECT_EQ(unlink("/d/missing"), Errno::kENOENT);
    // An open file outlives its name.
    write("/d/f", "data");
    auto f = open_path(ctx_, root_, "/d/f", 0, 0);
    ASSERT_TRUE(f.ok());
    EXPECT_EQ(unlink("/d/f"), Errno(0));
    EXPECT_EQ(lookup_error("/d/f"), Errno::kENOENT);
    EXPECT_EQ(read_all((*f)->inode()), "data");
    EXPECT_EQ((*f)->inode()->meta.nlink, 0u);
    (*f)->release();
    // A removed directory that is still the cwd finds nothing.
    Inode* d = find("/d");
    d->retain();  // as a process's FsContext holds its cwd
    ctx_.cwd = d;
    EXPECT_EQ(rmdir("/d"), Errno(0));
    EXPECT_EQ(lookup_error("x"), Errno::kENOENT);
    EXPECT_EQ(lookup_error(".."), Errno::kENOENT);
    EXPECT_EQ(touch("new"), Errno::kENOENT);
    char buf[16];
    EXPECT_EQ(directory_path(ctx_, d, buf, sizeof buf).error(), Errno::kENOENT);
    ctx_.cwd = root_;
    d->release();
}

TEST_F(FsTest, HardLinks) {
    write("/a", "x");
    ASSERT_EQ(mkdir("/d"), Errno(0));
    EXPECT_EQ(err(make_link(ctx_, root_, "/a", root_, "/b", false)), Errno(0));
    EXPECT_EQ(find("/a"), find("/b"));
    EXPECT_EQ(find("/a")->meta.nlink, 2u);
    EXPECT_EQ(err(make_link(ctx_, root_, "/a", root_, "/b", false)), Errno::kEEXIST);
    EXPECT_EQ(err(make_link(ctx_, root_, "/d", root_, "/e", false)), Errno::kEPERM);
    EXPECT_EQ(unlink("/a"), Errno(0));
    EXPECT_EQ(find("/b")->meta.nlink, 1u);
    EXPECT_EQ(read_all(find("/b")), "x");
}

TEST_F(FsTest, Rename) {
    write("/a", "A");
    write("/b", "B");
    ASSERT_EQ(mkdir("/d"), Errno(0));
    ASSERT_EQ(mkdir("/d/sub"), Errno(0));
    ASSERT_EQ(mkdir("/e"), Errno(0));
    ASSERT_EQ(touch("/e/x"), Errno(0));
    // Over an existing file: the old one is replaced.
    EXPECT_EQ(rename("/a", "/b"), Errno(0));
    EXPECT_EQ(lookup_error("/a"), Errno::kENOENT);
    EXPECT_EQ(read_all(find("/b")), "A");
    EXPECT_EQ(rename("/b", "/b"), Errno(0));
    EXPECT_EQ(rename("/missing", "/c"), Errno::kENOENT);
    EXPECT_EQ(rename("/b", "/d"), Errno::kEISDIR);
    EXPECT_EQ(rename("/d", "/b"), Errno::kENOTDIR);
    EXPECT_EQ(rename("/d", "/e"), Errno::kENOTEMPTY);
    EXPECT_EQ(rename("/d", "/d/sub/inner"), Errno::kEINVAL);
    EXPECT_EQ(rename("/d", "/d/new"), Errno::kEINVAL);
    EXPECT_EQ(rename("/b", "/b2/"), Errno::kENOTDIR);
    write("/c", "C");
    EXPECT_EQ(rename("/b", "/c", kRenameNoReplace), Errno::kEEXIST);
    // A directory moves with its contents and its ".." follows it.
    EXPECT_EQ(rename("/d", "/e/x"), Errno::kENOTDIR);
    EXPECT_EQ(unlink("/e/x"), Errno(0));
    Inode* e = find("/e");
    EXPECT_EQ(rename("/d", "/e"), Errno(0));  // over an empty directory
    EXPECT_EQ(find("/e/sub/.."), find("/e"));
    EXPECT_NE(find("/e"), e);
    EXPECT_EQ(rename("/e", "/f/"), Errno(0));
    EXPECT_EQ(find("/f/sub/../.."), root_);
    EXPECT_EQ(root_->meta.nlink, 3u);  // "/", "..", and f's ".."
    EXPECT_EQ(rename("/.", "/g"), Errno::kEBUSY);
}

TEST_F(FsTest, DirectoryPath) {
    ASSERT_EQ(mkdir("/usr"), Errno(0));
    ASSERT_EQ(mkdir("/usr/lib"), Errno(0));
    char buf[64];
    auto n = directory_path(ctx_, find("/usr/lib"), buf, sizeof buf);
    ASSERT_TRUE(n.ok());
    EXPECT_EQ(std::string(buf, *n), "/usr/lib");
    auto r = directory_path(ctx_, root_, buf, sizeof buf);
    ASSERT_TRUE(r.ok());
    EXPECT_STREQ(buf, "/");
    auto small = directory_path(ctx_, find("/usr/lib"), buf, 8);
    ASSERT_FALSE(small.ok());
    EXPECT_EQ(small.error(), Errno::kERANGE);
}

TEST_F(FsTest, FileDataGrowsSparseAndTruncates) {
    auto* f = mm::make<RegularFile>();
    std::string big(10000, 'q');
    ASSERT_EQ(f->write_at(3, big.data(), big.size()).value(), big.size());
    EXPECT_EQ(f->size(), 10003u);
    char head[4];
    ASSERT_EQ(f->read_at(0, head, 4).value(), 4u);
    EXPECT_EQ(std::string(head, 4), std::string("\0\0\0q", 4));
    ASSERT_EQ(f->write_at(100000, "z", 1).value(), 1u);  // a hole in between
    EXPECT_EQ(f->size(), 100001u);
    EXPECT_EQ(f->pages_held(), 4u);
    char mid[2] = {1, 1};
    ASSERT_EQ(f->read_at(50000, mid, 2).value(), 2u);
    EXPECT_EQ(mid[0], 0);
    ASSERT_TRUE(f->truncate(5).ok());
    EXPECT_EQ(f->pages_held(), 1u);
    ASSERT_TRUE(f->truncate(9000).ok());
    char c = 1;
    ASSERT_EQ(f->read_at(7, &c, 1).value(), 1u);
    EXPECT_EQ(c, 0);  // bytes cut off and grown back read as zeros
    EXPECT_EQ(f->read_at(9000, &c, 1).value(), 0u);
    f->release();
    EXPECT_EQ(kiln_test::fs_pages_live(), 0u);
}

TEST_F(FsTest, CopyOnWriteLeavesTheArchiveAlone) {
    static const char archive_bytes[] = "0123456789abcdef";
    std::string before(archive_bytes);
    auto* f = mm::make<RegularFile>(reinterpret_cast<const uint8_t*>(archive_bytes), 16);
    EXPECT_TRUE(f->in_place());
    EXPECT_EQ(read_all(f), before);
    EXPECT_EQ(f->pages_held(), 0u);
    ASSERT_TRUE(f->truncate(10).ok());  // shrinking stays in place
    EXPECT_TRUE(f->in_place());
    EXPECT_EQ(read_all(f), "0123456789");
    ASSERT_EQ(f->write_at(2, "XY", 2).value(), 2u);
    EXPECT_FALSE(f->in_place());
    EXPECT_EQ(read_all(f), "01XY456789");
    EXPECT_EQ(std::string(archive_bytes), before);
    f->release();
    // A failed copy leaves the file as it was.
    auto* g = mm::make<RegularFile>(reinterpret_cast<const uint8_t*>(archive_bytes), 16);
    kiln_test::fs_fail_pages_after(0);
    auto w = g->write_at(0, "x", 1);
    kiln_test::fs_fail_pages_after(-1);
    ASSERT_FALSE(w.ok());
    EXPECT_EQ(w.error(), Errno::kENOMEM);
    EXPECT_TRUE(g->in_place());
    EXPECT_EQ(read_all(g), before);
    g->release();
}

namespace {

std::string pad4(std::string s) {
    while (s.size() % 4 != 0) s.push_back('\0');
    return s;
}
std::string member(const std::string& name, uint32_t mode, const std::string& data,
                   uint32_t ino = 7, uint32_t nlink = 1) {
    char hdr[111];
    snprintf(hdr, sizeof hdr, "070701%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X", ino,
             mode, 5u, 6u, nlink, 1000u, static_cast<uint32_t>(data.size()), 0u, 0u, 0u, 0u,
             static_cast<uint32_t>(name.size() + 1), 0u);
    return pad4(std::string(hdr, 110) + name + '\0') + pad4(data);
}

}  // namespace

TEST_F(FsTest, UnpacksArchivesInOrder) {
    std::string a1 = member(".", 040755, "") + member("bin/busybox", 0100755, "ELF!", 1) +
                     member("bin/sh", 0120777, "busybox", 2) + member("etc/motd", 0100644, "one", 3) +
                     member("dev/null", 020666, "", 4) + member("../escape", 0100644, "x", 5) +
                     member("TRAILER!!!", 0, "");
    std::string a2 = member("./etc/motd", 0100600, "two", 3) + member("TRAILER!!!", 0, "") +
                     std::string(12, '\0') + member("/etc", 040700, "", 9) +
                     member("TRAILER!!!", 0, "");
    UnpackStats st;
    ASSERT_TRUE(unpack_cpio(root_, Bytes(reinterpret_cast<const uint8_t*>(a1.data()), a1.size()), &st).ok());
    ASSERT_TRUE(unpack_cpio(root_, Bytes(reinterpret_cast<const uint8_t*>(a2.data()), a2.size()), &st).ok());
    EXPECT_EQ(st.skipped, 2u);
    EXPECT_EQ(read_all(find("/bin/sh")), "ELF!");
    EXPECT_EQ(find("/bin/busybox")->meta.mode, 0755u);
    EXPECT_EQ(find("/bin/busybox")->meta.uid, 5u);
    EXPECT_EQ(find("/bin/busybox")->meta.mtime_ns, 1000LL * 1000000000LL);
    EXPECT_TRUE(find("/bin/busybox")->as_regular()->in_place());
    EXPECT_EQ(read_all(find("/etc/motd")), "two");
    EXPECT_EQ(find("/etc/motd")->meta.mode, 0600u);
    EXPECT_EQ(find("/etc")->meta.mode, 0700u);
    EXPECT_EQ(lookup_error("/dev/null"), Errno::kENOENT);
    EXPECT_EQ(lookup_error("/escape"), Errno::kENOENT);
    EXPECT_EQ(find("/bin")->meta.mode, 0755u);  // made implicitly

    std::string bad = member("x", 0100644, "1") + "070701zz";
    auto r = unpack_cpio(root_, Bytes(reinterpret_cast<const uint8_t*>(bad.data()), bad.size()));
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error(), Errno::kEINVAL);
    EXPECT_NE(find("/x"), nullptr);
}

TEST_F(FsTest, UnpacksHardLinksAsOneInode) {
    // newc stores a hard-linked file's data with the last link only.
    std::string a = member("a", 0100644, "", 42, 2) + member("b", 0100644, "shared", 42, 2) +
                    member("TRAILER!!!", 0, "");
    ASSERT_TRUE(unpack_cpio(root_, Bytes(reinterpret_cast<const uint8_t*>(a.data()), a.size())).ok());
    EXPECT_EQ(find("/a"), find("/b"));
    EXPECT_EQ(read_all(find("/a")), "shared");
    EXPECT_EQ(find("/a")->meta.nlink, 2u);
}

TEST_F(FsTest, FdTableSemantics) {
    auto* t = mm::make<FdTable>();
    ASSERT_TRUE(touch("/f") == Errno(0));
    File* f = open_path(ctx_, root_, "/f", 0, 0).value();
    EXPECT_EQ(t->install(f, false).value(), 0);
    EXPECT_EQ(t->install(f, true).value(), 1);
    EXPECT_EQ(t->install(f, false, 10).value(), 10);
    EXPECT_EQ(t->install(f, false).value(), 2);
    EXPECT_TRUE(t->close(1).ok());
    EXPECT_EQ(t->close(1).error(), Errno::kEBADF);
    EXPECT_EQ(t->install(f, false).value(), 1);  // the lowest free one
    EXPECT_FALSE(t->cloexec(1).value());
    EXPECT_EQ(t->install_at(10, f, true).value(), 10);
    EXPECT_TRUE(t->cloexec(10).value());
    EXPECT_EQ(t->get(5).error(), Errno::kEBADF);
    EXPECT_EQ(t->get(-1).error(), Errno::kEBADF);
    EXPECT_EQ(t->get(FdTable::kMaxFds).error(), Errno::kEBADF);
    EXPECT_EQ(t->install(f, false, FdTable::kMaxFds).error(), Errno::kEINVAL);
    for (int i = 0; i < FdTable::kMaxFds; i++) (void)t->install(f, false);
    EXPECT_EQ(t->count_open(), FdTable::kMaxFds);
    EXPECT_EQ(t->install(f, false).error(), Errno::kEMFILE);
    t->close_range(3, ~0u, false);
    EXPECT_EQ(t->count_open(), 3);
    EXPECT_EQ(t->next_open(3), -1);
    // The description is shared: an offset set through one fd shows in all.
    t->get(0).value()->offset = 7;
    EXPECT_EQ(t->get(2).value()->offset, 7u);
    f->release();
    mm::destroy(t);
}

TEST_F(FsTest, GetdentsRecordsAndResumption) {
    ASSERT_EQ(mkdir("/d"), Errno(0));
    std::vector<std::string> want = {".", ".."};
    for (int i = 0; i < 50; i++) {
        std::string n = "/d/file" + std::to_string(i) + std::string(i % 9, 'x');
        ASSERT_EQ(touch(n.c_str()), Errno(0));
        want.push_back(n.substr(3));
    }
    Inode* d = find("/d");
    std::vector<std::string> got;
    uint64_t pos = 0;
    alignas(8) uint8_t buf[200];
    for (;;) {
        auto n = fill_dirents(d, &pos, buf, sizeof buf);
        ASSERT_TRUE(n.ok());
        if (*n == 0) break;
        size_t off = 0;
        while (off < *n) {
            auto* rec = reinterpret_cast<LinuxDirent64*>(buf + off);
            EXPECT_EQ(rec->d_reclen % 8, 0u);
            EXPECT_GE(rec->d_reclen, 19 + strlen(rec->d_name) + 1);
            EXPECT_LT(rec->d_reclen, 19 + strlen(rec->d_name) + 1 + 8);
            EXPECT_EQ(rec->d_type, got.size() < 2 ? 4 : 8);  // DT_DIR, DT_REG
            got.push_back(rec->d_name);
            off += rec->d_reclen;
            if (off == *n) {
                EXPECT_EQ(static_cast<uint64_t>(rec->d_off), pos);
            }
        }
        // Removing entries already returned does not disturb the walk.
        if (got.size() == 12) {
            ASSERT_EQ(unlink("/d/file3xxx"), Errno(0));
        }
    }
    EXPECT_EQ(got, want);
    pos = 0;
    auto small = fill_dirents(d, &pos, buf, 20);
    ASSERT_FALSE(small.ok());
    EXPECT_EQ(small.error(), Errno::kEINVAL);
    EXPECT_EQ(pos, 0u);
    auto notdir = fill_dirents(find("/d/file0"), &pos, buf, sizeof buf);
    EXPECT_EQ(notdir.error(), Errno::kENOTDIR);
}

TEST_F(FsTest, ListsEntriesInCreationOrder) {
    ASSERT_EQ(mkdir("/d"), Errno(0));
    ASSERT_EQ(touch("/d/b"), Errno(0));
    ASSERT_EQ(touch("/d/a"), Errno(0));
    EXPECT_EQ(list("/d"), (std::vector<std::string>{".", "..", "b", "a"}));
}
