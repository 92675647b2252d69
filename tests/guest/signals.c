/* Signal delivery to handlers: `signals CASE...` runs the cases in turn,
   printing "CASE: ok" after each, or names the checks that failed (exit 1).
   Cases: send, mask, nodefer, resethand, segv, fpe, altstack, regs, skip,
   badstack, alarm, alarmdefault, aborthandler, rtqueue, overflow, hostile,
   kernelrip, badfpu, badxsave, pausehost, autodisarm. */
#define _GNU_SOURCE
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <time.h>
#include <ucontext.h>
#include <unistd.h>

static int failures;
#define CHECK(c)                                                \
    do {                                                        \
        if (!(c)) {                                             \
            printf("FAIL %s:%d: %s\n", __FILE__, __LINE__, #c); \
            failures++;                                         \
        }                                                       \
    } while (0)

static void install(int sig, void (*fn)(int, siginfo_t*, void*), int flags, int also_block) {
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_sigaction = fn;
    sa.sa_flags = SA_SIGINFO | flags;
    sigemptyset(&sa.sa_mask);
    if (also_block) sigaddset(&sa.sa_mask, also_block);
    if (sigaction(sig, &sa, NULL) != 0) {
        perror("sigaction");
        exit(2);
    }
}

static int blocked_now(int sig) {
    sigset_t cur;
    sigprocmask(SIG_BLOCK, NULL, &cur);
    return sigismember(&cur, sig);
}

/* ---- send: raise, tgkill, kill; si_signo, si_code, si_pid ---- */

static volatile int got_sig, got_code, got_pid, got_count, last_value;
static void record(int sig, siginfo_t* si, void* uc) {
    (void)uc;
    got_sig = si->si_signo == sig ? sig : -1;
    got_code = si->si_code;
    got_pid = si->si_pid;
    if (si->si_code == SI_QUEUE) last_value = si->si_value.sival_int;
    got_count++;
}

static void case_send(void) {
    install(SIGUSR1, record, 0, 0);
    install(SIGUSR2, record, 0, 0);
    raise(SIGUSR1);
    CHECK(got_count == 1);
    CHECK(got_sig == SIGUSR1);
    CHECK(got_code == SI_TKILL);
    syscall(SYS_tgkill, getpid(), syscall(SYS_gettid), SIGUSR2);
    CHECK(got_count == 2);
    CHECK(got_sig == SIGUSR2);
    CHECK(got_code == SI_TKILL);
    kill(getpid(), SIGUSR1);
    CHECK(got_count == 3);
    CHECK(got_code == SI_USER);
    CHECK(got_pid == getpid());
    /* sigqueue: SI_QUEUE with the value (rt_sigqueueinfo). */
    union sigval v = {.sival_int = 1234};
    CHECK(sigqueue(getpid(), SIGUSR1, v) == 0);
    CHECK(got_count == 4);
    CHECK(got_code == SI_QUEUE);
    CHECK(got_pid == getpid());
    CHECK(last_value == 1234);
    /* Ignored and default-ignored signals do nothing. */
    signal(SIGUSR2, SIG_IGN);
    raise(SIGUSR2);
    raise(SIGCHLD);
    raise(SIGWINCH);
    CHECK(got_count == 4);
}

/* ---- mask: the mask inside a handler, pending while blocked, sigsuspend ---- */

static volatile int mask_ok, mask_runs;
static void check_mask(int sig, siginfo_t* si, void* ucv) {
    (void)si;
    ucontext_t* uc = ucv;
    mask_runs++;
    /* The signal itself and sa_mask (SIGUSR2) are blocked during the
       handler; the interrupted code's mask is in the ucontext. */
    mask_ok = blocked_now(sig) && blocked_now(SIGUSR2) && !blocked_now(SIGTERM);
    if (sigismember(&uc->uc_sigmask, SIGUSR1) || sigismember(&uc->uc_sigmask, SIGUSR2)) mask_ok = 0;
}

static void case_mask(void) {
    install(SIGUSR1, check_mask, 0, SIGUSR2);
    raise(SIGUSR1);
    CHECK(mask_runs == 1);
    CHECK(mask_ok);
    CHECK(!blocked_now(SIGUSR1) && !blocked_now(SIGUSR2));

    /* Blocked: stays pending; unblocking delivers before sigprocmask returns. */
    sigset_t one, pending;
    sigemptyset(&one);
    sigaddset(&one, SIGUSR1);
    sigprocmask(SIG_BLOCK, &one, NULL);
    raise(SIGUSR1);
    CHECK(mask_runs == 1);
    sigpending(&pending);
    CHECK(sigismember(&pending, SIGUSR1));
    sigprocmask(SIG_UNBLOCK, &one, NULL);
    CHECK(mask_runs == 2);
    sigpending(&pending);
    CHECK(!sigismember(&pending, SIGUSR1));

    /* sigsuspend: the pending signal ends the wait with EINTR, its handler
       runs, and the old mask (SIGUSR1 blocked) comes back. */
    sigprocmask(SIG_BLOCK, &one, NULL);
    raise(SIGUSR1);
    sigset_t none;
    sigemptyset(&none);
    int r = sigsuspend(&none);
    CHECK(r == -1);
    CHECK(mask_runs == 3);
    CHECK(blocked_now(SIGUSR1));
    sigprocmask(SIG_UNBLOCK, &one, NULL);
}

/* ---- nodefer: nested delivery only with SA_NODEFER ---- */

static volatile int depth, max_depth, order[8], norder;
static void nest(int sig, siginfo_t* si, void* uc) {
    (void)si;
    (void)uc;
    depth++;
    if (depth > max_depth) max_depth = depth;
    order[norder++] = depth;
    if (norder == 1) raise(sig); /* once */
    depth--;
}

static void case_nodefer(void) {
    install(SIGUSR1, nest, SA_NODEFER, 0);
    raise(SIGUSR1);
    CHECK(max_depth == 2); /* the inner raise ran inside the handler */
    CHECK(norder == 2);
    depth = max_depth = norder = 0;
    install(SIGUSR1, nest, 0, 0);
    raise(SIGUSR1);
    CHECK(max_depth == 1); /* deferred until the handler returned */
    CHECK(norder == 2);
}

/* ---- resethand: the second raise takes the default action ---- */

static void once(int sig, siginfo_t* si, void* uc) {
    (void)sig;
    (void)si;
    (void)uc;
    got_count++;
}

static void case_resethand(void) {
    install(SIGUSR1, once, SA_RESETHAND, 0);
    raise(SIGUSR1);
    CHECK(got_count == 1);
    struct sigaction now;
    sigaction(SIGUSR1, NULL, &now);
    CHECK(now.sa_handler == SIG_DFL);
    printf("resethand: handler ran once\n");
    fflush(stdout);
    raise(SIGUSR1); /* SIGUSR1's default: terminate, status 138 */
    printf("FAIL: survived the second SIGUSR1\n");
    exit(1);
}

/* ---- segv / fpe: synchronous faults recovered with siglongjmp ---- */

static sigjmp_buf jump;
static volatile uintptr_t fault_addr;
static volatile int fault_code, fault_sig;
static void on_fault(int sig, siginfo_t* si, void* uc) {
    (void)uc;
    fault_sig = sig;
    fault_code = si->si_code;
    fault_addr = (uintptr_t)si->si_addr;
    siglongjmp(jump, 1);
}

static void case_segv(void) {
    install(SIGSEGV, on_fault, 0, 0);
    for (int round = 0; round < 2; round++) {
        fault_sig = 0;
        if (sigsetjmp(jump, 1) == 0) {
            volatile int* p = (volatile int*)(uintptr_t)(0x10 + round * 8);
            *p = 1;
            CHECK(!"the write to a null page went through");
        }
        CHECK(fault_sig == SIGSEGV);
        CHECK(fault_code == SEGV_MAPERR);
        CHECK(fault_addr == (uintptr_t)(0x10 + round * 8));
        CHECK(!blocked_now(SIGSEGV)); /* siglongjmp restored the mask */
    }
}

static void case_fpe(void) {
    install(SIGFPE, on_fault, 0, 0);
    volatile int zero = 0, n = 42, q = 0;
    if (sigsetjmp(jump, 1) == 0) {
        q = n / zero;
        CHECK(!"division by zero went through");
    }
    (void)q;
    CHECK(fault_sig == SIGFPE);
    CHECK(fault_code == FPE_INTDIV);
    CHECK(fault_addr != 0); /* the faulting instruction */
}

/* ---- altstack: SA_ONSTACK runs the handler on the alternate stack ---- */

static volatile uintptr_t handler_sp;
static volatile int alt_flags;
static void where(int sig, siginfo_t* si, void* uc) {
    (void)sig;
    (void)si;
    (void)uc;
    volatile char here = 0;
    handler_sp = (uintptr_t)&here;
    stack_t now;
    sigaltstack(NULL, &now);
    alt_flags = now.ss_flags;
}

static void case_altstack(void) {
    size_t size = 64 * 1024;
    char* mem = malloc(size);
    stack_t ss = {.ss_sp = mem, .ss_size = size, .ss_flags = 0};
    CHECK(sigaltstack(&ss, NULL) == 0);
    install(SIGUSR1, where, SA_ONSTACK, 0);
    raise(SIGUSR1);
    CHECK(handler_sp > (uintptr_t)mem && handler_sp < (uintptr_t)mem + size);
    CHECK(alt_flags & SS_ONSTACK);
    stack_t now;
    sigaltstack(NULL, &now);
    CHECK(now.ss_flags == 0);
    /* Without SA_ONSTACK the handler runs on the ordinary stack. */
    install(SIGUSR1, where, 0, 0);
    raise(SIGUSR1);
    CHECK(!(handler_sp > (uintptr_t)mem && handler_sp < (uintptr_t)mem + size));
}

/* ---- autodisarm: SS_AUTODISARM disarms the alternate stack while its
   handler runs (a nested signal could not clobber it) and rt_sigreturn
   re-arms it ---- */

static volatile int inner_flags;
static void where_disarmed(int sig, siginfo_t* si, void* uc) {
    where(sig, si, uc);
    inner_flags = alt_flags;
}

static void case_autodisarm(void) {
#ifndef SS_AUTODISARM
#define SS_AUTODISARM (1U << 31)
#endif
    size_t size = 64 * 1024;
    char* mem = malloc(size);
    stack_t ss = {.ss_sp = mem, .ss_size = size, .ss_flags = SS_AUTODISARM};
    CHECK(sigaltstack(&ss, NULL) == 0);
    install(SIGUSR1, where_disarmed, SA_ONSTACK, 0);
    raise(SIGUSR1);
    CHECK(handler_sp > (uintptr_t)mem && handler_sp < (uintptr_t)mem + size);
    CHECK(inner_flags == SS_DISABLE);
    stack_t now;
    sigaltstack(NULL, &now);
    CHECK(now.ss_sp == mem && now.ss_size == size);
    CHECK((unsigned)now.ss_flags == SS_AUTODISARM);
}

/* ---- regs: general, SSE (and AVX) registers survive a handler that
   uses them; the handler starts with the default MXCSR ---- */

static volatile unsigned handler_mxcsr;
static volatile double fp_sink;
static void clobber(int sig, siginfo_t* si, void* uc) {
    (void)sig;
    (void)si;
    (void)uc;
    unsigned m;
    __asm__ volatile("stmxcsr %0" : "=m"(m));
    handler_mxcsr = m;
    volatile double a = 1.5;
    for (int i = 0; i < 100; i++) fp_sink = fp_sink * a + i / 3.0;
    __asm__ volatile(
        "pcmpeqd %%xmm0, %%xmm0\n pcmpeqd %%xmm7, %%xmm7\n pcmpeqd %%xmm8, %%xmm8\n"
        "pcmpeqd %%xmm15, %%xmm15\n ldmxcsr %0" ::"m"((unsigned){0x5f80})
        : "xmm0", "xmm7", "xmm8", "xmm15");
    char buf[256];
    memset(buf, 0x5a, sizeof(buf));
    fp_sink += buf[17];
}

static int have_avx(void) {
    unsigned a, b, c, d;
    __asm__ volatile("cpuid" : "=a"(a), "=b"(b), "=c"(c), "=d"(d) : "a"(1), "c"(0));
    if (!(c & (1u << 27)) || !(c & (1u << 28))) return 0;
    unsigned lo, hi;
    __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    return (lo & 6) == 6;
}

static void case_regs(void) {
    install(SIGUSR1, clobber, 0, 0);
    const long pid = getpid(), tid = syscall(SYS_gettid);
    double in[2] = {3.25, -7.5}, out[2] = {0, 0};
    unsigned mx_in = 0x3f80 | 0x6000, mx_out = 0; /* round toward zero */
    uint64_t gp_in[5] = {0x1111, 0x2222, 0x3333, 0x4444, 0x5555}, gp_out[5];
    __asm__ volatile(
        "ldmxcsr %[mxin]\n"
        "movsd 0(%[in]), %%xmm7\n movsd 8(%[in]), %%xmm15\n"
        "movq 0(%[gin]), %%rbx\n movq 8(%[gin]), %%r12\n movq 16(%[gin]), %%r13\n"
        "movq 24(%[gin]), %%r14\n movq 32(%[gin]), %%r15\n"
        "movl $234, %%eax\n syscall\n" /* tgkill: the handler runs on the way out */
        "movq %%rbx, 0(%[gout])\n movq %%r12, 8(%[gout])\n movq %%r13, 16(%[gout])\n"
        "movq %%r14, 24(%[gout])\n movq %%r15, 32(%[gout])\n"
        "movsd %%xmm7, 0(%[out])\n movsd %%xmm15, 8(%[out])\n"
        "stmxcsr %[mxout]\n ldmxcsr %[mxdef]\n"
        : [mxout] "=m"(mx_out)
        : [mxin] "m"(mx_in), [mxdef] "m"((unsigned){0x1f80}), [in] "r"(in), [out] "r"(out),
          [gin] "r"(gp_in), [gout] "r"(gp_out), "D"(pid), "S"(tid), "d"(SIGUSR1)
        : "rax", "rcx", "r11", "rbx", "r12", "r13", "r14", "r15", "xmm7", "xmm15", "memory");
    CHECK(handler_mxcsr == 0x1f80);
    CHECK(mx_out == mx_in);
    CHECK(out[0] == 3.25 && out[1] == -7.5);
    for (int i = 0; i < 5; i++) CHECK(gp_out[i] == gp_in[i]);
    if (have_avx()) {
        uint64_t y_in[4] = {1, 2, 3, 4}, y_out[4] = {0, 0, 0, 0};
        __asm__ volatile(
            "vmovdqu (%[yin]), %%ymm9\n"
            "movl $234, %%eax\n syscall\n"
            "vmovdqu %%ymm9, (%[yout])\n vzeroupper\n"
            :
            : [yin] "r"(y_in), [yout] "r"(y_out), "D"(pid), "S"(tid), "d"(SIGUSR1)
            : "rax", "rcx", "r11", "xmm9", "memory");
        for (int i = 0; i < 4; i++) CHECK(y_out[i] == y_in[i]);
    }
    /* A handler that uses doubles does not disturb the caller's. */
    volatile double x = 2.0;
    double y = x * 1.25;
    raise(SIGUSR1);
    CHECK(y * 2 == 5.0);
}

/* ---- skip: a handler that edits uc_mcontext steers rt_sigreturn (what
   runtimes do): SIGILL from ud2 resumes past it, SIGTRAP from int3 ---- */

static volatile int ill_code, trap_seen;
static volatile uintptr_t ill_addr, ill_rip;
static void skip_ud2(int sig, siginfo_t* si, void* ucv) {
    ucontext_t* uc = ucv;
    (void)sig;
    ill_code = si->si_code;
    ill_addr = (uintptr_t)si->si_addr;
    ill_rip = uc->uc_mcontext.gregs[REG_RIP];
    uc->uc_mcontext.gregs[REG_RIP] += 2; /* ud2 */
    uc->uc_mcontext.gregs[REG_RAX] = 77; /* seen by the interrupted code */
}
static void count_trap(int sig, siginfo_t* si, void* uc) {
    (void)sig;
    (void)si;
    (void)uc;
    trap_seen++;
}

static void case_skip(void) {
    install(SIGILL, skip_ud2, 0, 0);
    long rax = 0;
    __asm__ volatile("xorl %%eax, %%eax\n ud2\n" : "=a"(rax));
    CHECK(rax == 77);
    CHECK(ill_code == ILL_ILLOPN);
    CHECK(ill_addr == ill_rip && ill_rip != 0);
    install(SIGTRAP, count_trap, 0, 0);
    __asm__ volatile("int3");
    CHECK(trap_seen == 1);
}

/* ---- badstack: no room for the frame (the alternate stack is unmapped):
   the process dies of SIGSEGV with the kernel's report ---- */

static void case_badstack(void) {
    size_t size = 64 * 1024;
    char* mem = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    stack_t ss = {.ss_sp = mem, .ss_size = size, .ss_flags = 0};
    CHECK(sigaltstack(&ss, NULL) == 0);
    munmap(mem, size);
    install(SIGSEGV, on_fault, SA_ONSTACK, 0);
    printf("badstack: faulting\n");
    fflush(stdout);
    volatile uintptr_t bad = 8;
    *(volatile int*)bad = 1;
    printf("FAIL: survived\n");
    exit(1);
}

/* ---- alarm: ITIMER_REAL sends SIGALRM (SI_KERNEL); pause, sigsuspend
   and nanosleep end with EINTR; a periodic timer keeps firing ---- */

static volatile int alarms, alarm_code;
static void on_alarm(int sig, siginfo_t* si, void* uc) {
    (void)sig;
    (void)uc;
    alarm_code = si->si_code;
    alarms++;
}

static void arm_ms(long first_ms, long every_ms) {
    struct itimerval it = {{every_ms / 1000, (every_ms % 1000) * 1000},
                           {first_ms / 1000, (first_ms % 1000) * 1000}};
    if (setitimer(ITIMER_REAL, &it, NULL) != 0) perror("setitimer");
}

static void case_alarm(void) {
    install(SIGALRM, on_alarm, 0, 0);
    arm_ms(20, 0);
    int r = pause();
    CHECK(r == -1);
    CHECK(alarms == 1);
    CHECK(alarm_code == SI_KERNEL);
    struct itimerval left;
    getitimer(ITIMER_REAL, &left);
    CHECK(left.it_value.tv_sec == 0 && left.it_value.tv_usec == 0); /* one-shot: disarmed */

    /* nanosleep is cut short and reports the time left. */
    arm_ms(20, 0);
    struct timespec req = {5, 0}, rem = {0, 0};
    r = nanosleep(&req, &rem);
    CHECK(r == -1);
    CHECK(alarms == 2);
    CHECK(rem.tv_sec == 4);

    /* Periodic: three expiries, each ending one sigsuspend. */
    sigset_t alrm, none;
    sigemptyset(&alrm);
    sigaddset(&alrm, SIGALRM);
    sigemptyset(&none);
    sigprocmask(SIG_BLOCK, &alrm, NULL);
    arm_ms(5, 5);
    for (int i = 0; i < 3; i++) sigsuspend(&none);
    arm_ms(0, 0);
    CHECK(alarms == 5);
    CHECK(blocked_now(SIGALRM));
    sigprocmask(SIG_UNBLOCK, &alrm, NULL);

    /* alarm(2) reports what was left on the previous one. */
    CHECK(alarm(100) == 0);
    unsigned prev = alarm(0);
    CHECK(prev == 100 || prev == 99);
}

/* ---- alarmdefault: SIGALRM's default action ends the process (142) ---- */

static void case_alarmdefault(void) {
    printf("alarmdefault: waiting\n");
    fflush(stdout);
    arm_ms(10, 0);
    pause();
    printf("FAIL: survived SIGALRM\n");
    exit(1);
}

/* ---- aborthandler: abort() runs a SIGABRT handler that returns, then
   still ends the process with 134 ---- */

static void on_abort(int sig, siginfo_t* si, void* uc) {
    (void)sig;
    (void)si;
    (void)uc;
    printf("aborthandler: handler ran\n");
    fflush(stdout);
}

static void case_aborthandler(void) {
    install(SIGABRT, on_abort, 0, 0);
    abort();
}

/* ---- rtqueue: real-time signals queue (in order, with their values),
   standard ones coalesce; a full queue is EAGAIN; SIG_IGN drops them ---- */

static volatile int rt_values[8], rt_count, usr1_count;
static void on_rt(int sig, siginfo_t* si, void* uc) {
    (void)uc;
    if (sig == SIGUSR1) {
        usr1_count++;
    } else if (rt_count < 8) {
        rt_values[rt_count++] = si->si_value.sival_int;
    }
}

static void case_rtqueue(void) {
    install(SIGRTMIN, on_rt, 0, 0);
    install(SIGUSR1, on_rt, 0, 0);
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGRTMIN);
    sigaddset(&set, SIGUSR1);
    sigprocmask(SIG_BLOCK, &set, NULL);
    for (int i = 1; i <= 3; i++)
        CHECK(sigqueue(getpid(), SIGRTMIN, (union sigval){.sival_int = i}) == 0);
    raise(SIGUSR1);
    raise(SIGUSR1);
    sigprocmask(SIG_UNBLOCK, &set, NULL);
    CHECK(rt_count == 3);
    CHECK(rt_values[0] == 1 && rt_values[1] == 2 && rt_values[2] == 3);
    CHECK(usr1_count == 1);

    /* A full queue answers EAGAIN; SIG_IGN forgets every instance. */
    sigprocmask(SIG_BLOCK, &set, NULL);
    int sent = 0, again = 0;
    for (int i = 0; i < 200; i++) {
        if (sigqueue(getpid(), SIGRTMIN, (union sigval){.sival_int = 100 + i}) == 0) {
            sent++;
        } else if (errno == EAGAIN) {
            again++;
        }
    }
    CHECK(sent >= 2 && again > 0 && sent + again == 200);
    signal(SIGRTMIN, SIG_IGN);
    sigset_t pending;
    sigpending(&pending);
    CHECK(!sigismember(&pending, SIGRTMIN));
    install(SIGRTMIN, on_rt, 0, 0);
    sigprocmask(SIG_UNBLOCK, &set, NULL);
    CHECK(rt_count == 3);
}

/* ---- overflow: a stack overflow reaches a SIGSEGV handler on the
   alternate stack (what Rust and Go do to report it) ---- */

static int recurse(volatile char* prev, int depth) {
    volatile char here[512];
    here[0] = prev ? prev[0] + 1 : 0;
    return recurse(here, depth + 1) + here[0];
}

static void case_overflow(void) {
    size_t size = 64 * 1024;
    stack_t ss = {.ss_sp = malloc(size), .ss_size = size, .ss_flags = 0};
    CHECK(sigaltstack(&ss, NULL) == 0);
    install(SIGSEGV, on_fault, SA_ONSTACK, 0);
    fault_sig = 0;
    if (sigsetjmp(jump, 1) == 0) {
        recurse(NULL, 0);
        CHECK(!"endless recursion returned");
    }
    CHECK(fault_sig == SIGSEGV);
    CHECK(fault_addr != 0);
}

/* ---- hostile rt_sigreturn: a handler that writes kernel segments,
   IOPL and NT into its context still returns to user mode with user
   segments and IOPL 0; a kernel RIP or an FPU image xrstor would refuse
   ends the process with SIGSEGV instead of hurting the kernel ---- */

static volatile int hostile_what;
static void tamper(int sig, siginfo_t* si, void* ucv) {
    (void)sig;
    (void)si;
    ucontext_t* uc = ucv;
    if (hostile_what == 0) {
        uc->uc_mcontext.gregs[REG_CSGSFS] = 0x0018000000000010ll; /* ss 0x18, cs 0x10 */
        uc->uc_mcontext.gregs[REG_EFL] |= 0x3000 | 0x4000;        /* IOPL 3, NT */
    } else if (hostile_what == 1) {
        uc->uc_mcontext.gregs[REG_RIP] = (greg_t)0xffffffff80100000ull;
    } else if (hostile_what == 2) {
        uc->uc_mcontext.fpregs->mxcsr = 0xffffffffu; /* reserved bits: xrstor would #GP */
    } else {
        /* XSTATE_BV naming features XCR0 lacks (xrstor would #GP), when the
           frame carries an XSAVE image (FP_XSTATE_MAGIC1 at byte 464). */
        unsigned char* fp = (unsigned char*)uc->uc_mcontext.fpregs;
        unsigned magic;
        memcpy(&magic, fp + 464, 4);
        if (magic == 0x46505853u) {
            memset(fp + 512, 0xff, 8);
        } else {
            uc->uc_mcontext.fpregs->mxcsr = 0xffffffffu;
        }
    }
}

static void case_hostile(void) {
    install(SIGUSR1, tamper, 0, 0);
    hostile_what = 0;
    raise(SIGUSR1);
    unsigned long flags;
    unsigned short cs, ss;
    __asm__ volatile("pushfq; popq %0; movw %%cs, %1; movw %%ss, %2"
                     : "=r"(flags), "=r"(cs), "=r"(ss));
    CHECK((flags & 0x3000) == 0);
    CHECK((cs & 3) == 3 && (ss & 3) == 3);
}

static void case_hostile_die(int what) {
    install(SIGUSR1, tamper, 0, 0);
    hostile_what = what;
    printf("hostile: returning\n");
    fflush(stdout);
    raise(SIGUSR1);
    printf("FAIL: survived\n");
    exit(1);
}
static void case_kernelrip(void) {
    case_hostile_die(1);
}
static void case_badfpu(void) {
    case_hostile_die(2);
}
static void case_badxsave(void) {
    case_hostile_die(3);
}

/* ---- pausehost: pause() waits for a signal from the host (kiln-vmm
   forwards SIGTERM); the handler ends the program with 42 ---- */

/* Only async-signal-safe output here: the host's signal can arrive while
   main's fflush of "pausing" is still returning from write(), and a printf
   in the handler would flush that buffer a second time. */
static void on_term(int sig, siginfo_t* si, void* uc) {
    (void)uc;
    char msg[64];
    int n = snprintf(msg, sizeof(msg), "got signal %d from pid %d\n", sig, (int)si->si_pid);
    if (write(1, msg, (size_t)n) != n) _exit(1);
    _exit(42);
}

static void case_pausehost(void) {
    install(SIGTERM, on_term, 0, 0);
    printf("pausing\n");
    fflush(stdout);
    pause();
    printf("FAIL: pause returned\n");
    exit(1);
}

int main(int argc, char** argv) {
    static const struct {
        const char* name;
        void (*run)(void);
    } cases[] = {{"send", case_send},
                 {"mask", case_mask},
                 {"nodefer", case_nodefer},
                 {"resethand", case_resethand},
                 {"segv", case_segv},
                 {"fpe", case_fpe},
                 {"altstack", case_altstack},
                 {"regs", case_regs},
                 {"skip", case_skip},
                 {"badstack", case_badstack},
                 {"alarm", case_alarm},
                 {"alarmdefault", case_alarmdefault},
                 {"aborthandler", case_aborthandler},
                 {"rtqueue", case_rtqueue},
                 {"overflow", case_overflow},
                 {"hostile", case_hostile},
                 {"kernelrip", case_kernelrip},
                 {"badfpu", case_badfpu},
                 {"badxsave", case_badxsave},
                 {"pausehost", case_pausehost},
                 {"autodisarm", case_autodisarm}};
    if (argc < 2) {
        fprintf(stderr, "usage: signals CASE...\n");
        return 2;
    }
    for (int a = 1; a < argc; a++) {
        size_t i = 0;
        while (i < sizeof(cases) / sizeof(cases[0]) && strcmp(argv[a], cases[i].name) != 0) i++;
        if (i == sizeof(cases) / sizeof(cases[0])) {
            fprintf(stderr, "signals: unknown case %s\n", argv[a]);
            return 2;
        }
        cases[i].run();
        if (failures) return 1;
        printf("%s: ok\n", argv[a]);
        fflush(stdout);
    }
    return 0;
}
