// qemu-monitor: a stand-in for kiln-vmm that boots the same kernel and
// archives under QEMU TCG, so that
//   KILN_VMM=build/tests/e2e/qemu-monitor kiln run PROG
// runs PROG on the ordinary x86 path, without KVM.
//
//   qemu-monitor [--mem SIZE] [--cmdline TEXT] [--initrd FILE]...
//                [--net none|user|tap:NAME] [--mac MAC] [-p [IP:]HOST:GUEST[/udp]]... KERNEL
//
// It answers like kiln-vmm: the program's output (virtio-console) on stdout,
// the kernel log (UART) and QEMU's own messages on stderr, the guest's exit
// status as its own. What QEMU imposes:
//  - the program's stderr shares the virtio console with its stdout (the
//    console port that separates them is kiln-vmm's), and stdin is not
//    connected;
//  - isa-debug-exit reports a guest status V as ((V << 1) | 1) & 0xff, so
//    only 0..127 arrive intact: 128+signal comes back as the signal number;
//  - QEMU takes one -initrd: the archives are concatenated into one module
//    (the kernel unpacks concatenated cpio newc archives, kernel/fs/initrd.cpp);
//  - --net user is QEMU's own user-mode network (libslirp too), -p its
//    hostfwd; --net tap:NAME its tap backend; each on a virtio-net device.
// Exits 125 with a message when QEMU cannot run, dies or ends without a
// status from the guest; is ended by the signal that ended it (SIGTERM,
// SIGINT, SIGHUP, SIGQUIT, passed on to QEMU first), as kiln-vmm would be.
//
// Nothing touches the file system: the concatenated initrd is a memfd QEMU
// opens as /proc/self/fd/N, and output travels through pipes. QEMU dies
// with this process (PR_SET_PDEATHSIG), so a SIGKILL leaves nothing behind.
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <string>
#include <vector>

namespace {

constexpr int kStatusCannotRun = 125;

[[noreturn]] void die(const char* fmt, ...) {
    char buf[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    dprintf(STDERR_FILENO, "qemu-monitor: %s\n", buf);
    exit(kStatusCannotRun);
}

bool write_all(int fd, const char* p, size_t n) {
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) return false;
        p += w;
        n -= size_t(w);
    }
    return true;
}

struct Options {
    std::string mem = "64M", cmdline, kernel, net = "none", mac;
    std::vector<std::string> initrds, publish;
};

// -p [IP:]HOSTPORT:GUESTPORT[/udp] as QEMU's hostfwd=PROTO:IP:HOSTPORT-:GUESTPORT,
// on 127.0.0.1 unless an address is given (kiln-vmm's default).
std::string hostfwd(const std::string& spec) {
    std::string s = spec, proto = "tcp";
    if (size_t slash = s.find('/'); slash != std::string::npos) {
        proto = s.substr(slash + 1);
        s = s.substr(0, slash);
    }
    size_t last = s.rfind(':');
    if (last == std::string::npos || (proto != "tcp" && proto != "udp")) {
        die("bad -p '%s': expected [IP:]HOSTPORT:GUESTPORT[/udp]", spec.c_str());
    }
    std::string guest = s.substr(last + 1), host = s.substr(0, last), ip = "127.0.0.1";
    if (size_t colon = host.rfind(':'); colon != std::string::npos) {
        ip = host.substr(0, colon);
        host = host.substr(colon + 1);
    }
    return ",hostfwd=" + proto + ":" + ip + ":" + host + "-:" + guest;
}

Options parse(int argc, char** argv) {
    Options o;
    for (int i = 1; i < argc; i++) {
        std::string a = argv[i];
        std::string* value = nullptr;
        std::string name = a.substr(0, a.find('='));
        if (name == "--mem") value = &o.mem;
        if (name == "--cmdline") value = &o.cmdline;
        if (name == "--initrd") value = &o.initrds.emplace_back();
        if (name == "--net") value = &o.net;
        if (name == "--mac") value = &o.mac;
        if (name == "-p" || name == "--publish") value = &o.publish.emplace_back();
        if (value != nullptr) {
            if (a.size() > name.size()) {
                *value = a.substr(name.size() + 1);
            } else if (i + 1 < argc) {
                *value = argv[++i];
            } else {
                die("%s needs a value", a.c_str());
            }
        } else if (a == "--stats" || a == "--quiet-log") {
            // kiln-vmm's diagnostics: nothing to do under QEMU.
        } else if (a.size() > 1 && a[0] == '-') {
            die("unknown option '%s' (this stand-in takes kiln-vmm's --mem, --cmdline, --initrd, "
                "--net, --mac, -p)",
                a.c_str());
        } else if (!o.kernel.empty()) {
            die("more than one KERNEL given ('%s', '%s')", o.kernel.c_str(), a.c_str());
        } else {
            o.kernel = a;
        }
    }
    if (o.kernel.empty()) die("no KERNEL given");
    if (access(o.kernel.c_str(), R_OK) != 0) {
        die("cannot read the kernel %s: %s", o.kernel.c_str(), strerror(errno));
    }
    return o;
}

// Every --initrd, one after the other, in an anonymous file QEMU inherits.
// newc archives end 4-byte aligned, so each next archive starts aligned.
int concatenate(const std::vector<std::string>& paths) {
    int out = memfd_create("kiln-qemu-initrd", 0);
    if (out < 0) die("memfd_create: %s", strerror(errno));
    for (const auto& p : paths) {
        int in = open(p.c_str(), O_RDONLY | O_CLOEXEC);
        if (in < 0) die("cannot open --initrd %s: %s", p.c_str(), strerror(errno));
        char buf[1 << 16];
        for (;;) {
            ssize_t n = read(in, buf, sizeof(buf));
            if (n < 0 && errno == EINTR) continue;
            if (n < 0) die("cannot read --initrd %s: %s", p.c_str(), strerror(errno));
            if (n == 0) break;
            if (!write_all(out, buf, size_t(n))) die("cannot copy --initrd %s", p.c_str());
        }
        close(in);
    }
    return out;
}

volatile sig_atomic_t g_qemu = 0;
volatile sig_atomic_t g_signal = 0;

void pass_on(int sig) {
    g_signal = sig;
    if (g_qemu > 0) kill(g_qemu, SIGTERM);
}

constexpr int kPassedOn[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT};

struct Pipe {
    int read = -1, write = -1;  // the write end is inherited by QEMU
};

Pipe make_pipe() {
    int fds[2];
    if (pipe2(fds, 0) != 0) die("pipe: %s", strerror(errno));
    fcntl(fds[0], F_SETFD, FD_CLOEXEC);
    return {fds[0], fds[1]};
}

// QEMU's messages are "qemu-system-x86_64: TEXT", its warnings
// "...: warning: TEXT"; an error means the guest never ran. (A failed exec
// says "qemu-monitor: cannot run ...".) QEMU ends with status 1 both on an
// error and for a guest's exit 0: the messages tell them apart.
bool has_error(const std::string& messages) {
    size_t i = 0;
    while (i < messages.size()) {
        size_t end = messages.find('\n', i);
        if (end == std::string::npos) end = messages.size();
        std::string line = messages.substr(i, end - i);
        size_t colon = line.find(": ");
        if (colon != std::string::npos && line.substr(0, colon).find("qemu") != std::string::npos &&
            line.find(": warning: ") == std::string::npos) {
            return true;
        }
        i = end + 1;
    }
    return false;
}

}  // namespace

int main(int argc, char** argv) {
    Options opt = parse(argc, argv);
    const char* env_qemu = getenv("KILN_QEMU");
    std::string qemu = env_qemu != nullptr && env_qemu[0] != '\0' ? env_qemu : "qemu-system-x86_64";
    std::string initrd;
    if (!opt.initrds.empty()) initrd = "/proc/self/fd/" + std::to_string(concatenate(opt.initrds));

    Pipe con = make_pipe(), log = make_pipe(), msg = make_pipe();
    // One option and its value a line.
    // clang-format off
    std::vector<std::string> args = {
        qemu, "-M", "microvm,acpi=off", "-m", opt.mem, "-nodefaults", "-no-user-config",
        "-display", "none", "-monitor", "none", "-no-reboot",
        "-accel", "tcg", "-cpu", "max",  // SMEP, SMAP, UMIP, RDRAND
        "-kernel", opt.kernel, "-append", opt.cmdline,
        "-chardev", "file,id=log,path=/proc/self/fd/" + std::to_string(log.write),
        "-serial", "chardev:log",
        "-device", "isa-debug-exit,iobase=0xf4,iosize=4",
        "-global", "virtio-mmio.force-legacy=false",
        "-device", "virtio-serial-device",
        "-chardev", "file,id=con,path=/proc/self/fd/" + std::to_string(con.write),
        "-device", "virtconsole,chardev=con"};
    // clang-format on
    if (!initrd.empty()) args.insert(args.end(), {"-initrd", initrd});
    if (opt.net != "none") {
        std::string netdev;
        if (opt.net == "user") {
            netdev = "user,id=net0";
            for (const std::string& p : opt.publish) netdev += hostfwd(p);
        } else if (opt.net.rfind("tap:", 0) == 0 && opt.net.size() > 4) {
            netdev = "tap,id=net0,ifname=" + opt.net.substr(4) + ",script=no,downscript=no";
        } else {
            die("bad --net '%s': expected none, user or tap:NAME", opt.net.c_str());
        }
        std::string dev = "virtio-net-device,netdev=net0";
        if (!opt.mac.empty()) dev += ",mac=" + opt.mac;
        args.insert(args.end(), {"-netdev", netdev, "-device", dev});
    } else if (!opt.publish.empty()) {
        die("-p needs a network: --net user");
    }
    std::vector<char*> cargs;
    for (auto& a : args) cargs.push_back(a.data());
    cargs.push_back(nullptr);

    struct sigaction sa = {};
    sa.sa_handler = pass_on;
    sigemptyset(&sa.sa_mask);
    for (int s : kPassedOn) sigaction(s, &sa, nullptr);
    signal(SIGPIPE, SIG_IGN);  // a closed stdout must not hide the status

    sigset_t block, old;
    sigemptyset(&block);
    for (int s : kPassedOn) sigaddset(&block, s);
    sigprocmask(SIG_BLOCK, &block, &old);
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid < 0) die("fork: %s", strerror(errno));
    if (pid == 0) {
        for (int s : kPassedOn) signal(s, SIG_DFL);
        signal(SIGPIPE, SIG_DFL);
        sigprocmask(SIG_SETMASK, &old, nullptr);
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (getppid() != parent) _exit(kStatusCannotRun);
        int null = open("/dev/null", O_RDONLY);
        if (null >= 0) dup2(null, STDIN_FILENO);
        dup2(msg.write, STDERR_FILENO);
        execvp(cargs[0], cargs.data());
        dprintf(msg.write, "qemu-monitor: cannot run %s: %s\n", qemu.c_str(), strerror(errno));
        _exit(kStatusCannotRun);
    }
    g_qemu = pid;
    if (g_signal != 0) kill(pid, SIGTERM);
    sigprocmask(SIG_SETMASK, &old, nullptr);
    close(con.write);
    close(log.write);
    close(msg.write);

    // Until QEMU has closed all three: console to stdout, the rest to stderr.
    std::string messages;
    struct pollfd fds[3] = {{con.read, POLLIN, 0}, {log.read, POLLIN, 0}, {msg.read, POLLIN, 0}};
    const int to[3] = {STDOUT_FILENO, STDERR_FILENO, STDERR_FILENO};
    int open_fds = 3;
    while (open_fds > 0) {
        if (poll(fds, 3, -1) < 0) {
            if (errno == EINTR) continue;
            die("poll: %s", strerror(errno));
        }
        for (int i = 0; i < 3; i++) {
            if (fds[i].fd < 0 || fds[i].revents == 0) continue;
            char buf[1 << 16];
            ssize_t n = read(fds[i].fd, buf, sizeof(buf));
            if (n < 0 && errno == EINTR) continue;
            if (n <= 0) {
                close(fds[i].fd);
                fds[i].fd = -1;
                open_fds--;
                continue;
            }
            (void)write_all(to[i], buf, size_t(n));
            if (i == 2) messages.append(buf, size_t(n));
        }
    }
    int status = 0;
    while (waitpid(pid, &status, 0) < 0) {
        if (errno != EINTR) die("waitpid: %s", strerror(errno));
    }

    if (g_signal != 0) {
        // Ended from outside: end the same way, as kiln-vmm would.
        signal(g_signal, SIG_DFL);
        raise(g_signal);
        die("signal %d did not end this process", int(g_signal));
    }
    if (WIFSIGNALED(status)) die("QEMU was killed by signal %d", WTERMSIG(status));
    int code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    if (has_error(messages)) die("QEMU failed (status %d)", code);
    if (code < 0 || (code & 1) == 0) {
        // 0: the guest shut down or reset without isa-debug-exit.
        die("QEMU exited with status %d without an exit status from the guest (isa-debug-exit)",
            code);
    }
    return code >> 1;
}
