/* File system calls in /tmp and on the image: open/read/write, pread/
   pwrite, lseek, fstat/stat, getdents64, rename, unlink, mkdir/rmdir,
   ftruncate, dup/dup2, fcntl. argv[1], if given, is a file from the image
   whose first line is printed. Prints "files: ok" and exits 0, or names the
   first failed step and exits 1. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "check.h"

struct linux_dirent64 {
    unsigned long long d_ino;
    long long d_off;
    unsigned short d_reclen;
    unsigned char d_type;
    char d_name[];
};

static int count_entries(const char* dir, int* saw_a, int* saw_b) {
    int fd = open(dir, O_RDONLY | O_DIRECTORY);
    if (fd < 0) return -1;
    char buf[1024];
    int n = 0;
    long got;
    while ((got = syscall(SYS_getdents64, fd, buf, sizeof(buf))) > 0) {
        for (long off = 0; off < got;) {
            struct linux_dirent64* d = (struct linux_dirent64*)(buf + off);
            if (strcmp(d->d_name, "a") == 0) *saw_a = 1;
            if (strcmp(d->d_name, "b") == 0) *saw_b = d->d_type == DT_DIR ? 2 : 1;
            n++;
            off += d->d_reclen;
        }
    }
    close(fd);
    return got < 0 ? -1 : n;
}

int main(int argc, char** argv) {
    char buf[256];
    CHECK(mkdir("/tmp/kt", 0755) == 0, "mkdir /tmp/kt");
    CHECK(mkdir("/tmp/kt", 0755) == -1 && errno == EEXIST, "mkdir again gives EEXIST");
    int fd = open("/tmp/kt/a", O_RDWR | O_CREAT | O_EXCL, 0644);
    CHECK(fd >= 0, "open O_CREAT");
    CHECK(write(fd, "hello, world", 12) == 12, "write");
    CHECK(lseek(fd, 0, SEEK_CUR) == 12, "lseek SEEK_CUR");
    CHECK(pwrite(fd, "W", 1, 7) == 1, "pwrite");
    CHECK(lseek(fd, 0, SEEK_CUR) == 12, "pwrite keeps the offset");
    CHECK(pread(fd, buf, 5, 7) == 5 && memcmp(buf, "World", 5) == 0, "pread");
    CHECK(lseek(fd, 0, SEEK_SET) == 0, "lseek SEEK_SET");
    CHECK(read(fd, buf, sizeof(buf)) == 12 && memcmp(buf, "hello, World", 12) == 0, "read");
    CHECK(read(fd, buf, sizeof(buf)) == 0, "read at EOF");
    CHECK(lseek(fd, 100, SEEK_SET) == 100 && write(fd, "!", 1) == 1, "write past the end");
    struct stat st;
    CHECK(fstat(fd, &st) == 0 && st.st_size == 101 && S_ISREG(st.st_mode), "fstat size 101");
    CHECK(pread(fd, buf, 4, 50) == 4 && memcmp(buf, "\0\0\0\0", 4) == 0, "hole reads zeros");
    CHECK(ftruncate(fd, 5) == 0 && fstat(fd, &st) == 0 && st.st_size == 5, "ftruncate");
    int fd2 = dup(fd);
    CHECK(fd2 > fd, "dup");
    CHECK(lseek(fd2, 1, SEEK_SET) == 1 && lseek(fd, 0, SEEK_CUR) == 1, "dup shares the offset");
    CHECK(dup2(fd, 20) == 20, "dup2");
    CHECK(fcntl(fd, F_SETFD, FD_CLOEXEC) == 0 && fcntl(fd, F_GETFD) == FD_CLOEXEC, "F_SETFD");
    CHECK(fcntl(fd2, F_GETFD) == 0, "FD_CLOEXEC is per descriptor");
    CHECK((fcntl(fd, F_GETFL) & O_ACCMODE) == O_RDWR, "F_GETFL");
    int fd3 = fcntl(fd, F_DUPFD, 30);
    CHECK(fd3 >= 30, "F_DUPFD");
    close(fd3);
    close(20);
    close(fd2);
    close(fd);
    CHECK(stat("/tmp/kt/a", &st) == 0 && st.st_size == 5, "stat");
    CHECK(mkdir("/tmp/kt/b", 0755) == 0, "mkdir b");
    int saw_a = 0, saw_b = 0;
    int n = count_entries("/tmp/kt", &saw_a, &saw_b);
    CHECK(n == 4 && saw_a && saw_b == 2, "getdents64 lists . .. a b");
    CHECK(rename("/tmp/kt/a", "/tmp/kt/b/c") == 0, "rename");
    CHECK(stat("/tmp/kt/a", &st) == -1 && errno == ENOENT, "renamed file is gone");
    CHECK(rmdir("/tmp/kt/b") == -1 && errno == ENOTEMPTY, "rmdir of a non-empty dir");
    CHECK(unlink("/tmp/kt/b/c") == 0, "unlink");
    CHECK(rmdir("/tmp/kt/b") == 0 && rmdir("/tmp/kt") == 0, "rmdir");
    CHECK(open("/tmp/kt/none", O_RDONLY) == -1 && errno == ENOENT, "open missing gives ENOENT");

    /* The image: this program's own file, and a file given by the caller. */
    fd = open(argv[0], O_RDONLY);
    CHECK(fd >= 0 && read(fd, buf, 4) == 4 && memcmp(buf, "\177ELF", 4) == 0, "read argv[0]");
    close(fd);
    if (argc > 1) {
        FILE* f = fopen(argv[1], "r");
        CHECK(f != NULL, "fopen argv[1]");
        CHECK(fgets(buf, sizeof(buf), f) != NULL, "fgets argv[1]");
        fclose(f);
        printf("image file: %s", buf);
    }
    printf("files: ok\n");
    return 0;
}
