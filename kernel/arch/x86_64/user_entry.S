/*
 * The way into and out of the application (ring 3).
 *
 * kiln_syscall_entry is LSTAR: SYSCALL arrives with RCX = user RIP, R11 =
 * user RFLAGS, RSP still the user stack and interrupts masked (FMASK on
 * x86; on kvm-pvm the switch flags' exit-free SYSCALL entry, with vif.if_
 * cleared). It saves a TrapFrame (traps.h) on the kernel stack, with
 * vector 0x100, and calls kiln_syscall(frame), which answers 1 when the
 * frame must return whole (signal delivery, rt_sigreturn).
 *
 * Back to user: kvm-pvm returns with `int $0x19` (SYSRET-like: RCX, R11,
 * RSP; ~0.8 us) after a syscall and `int $0x17` (an IRET frame at RSP)
 * after a trap; ordinary x86 uses sysretq and iretq (PVM.md).
 * One CPU: the kernel stack and the saved user RSP are plain globals; the
 * scheduler points kiln_kernel_stack_top at the running thread's stack.
 */
#include "trap_frame.inc"
#define VIF_IF 0
#define SYSCALL_VECTOR 0x100
#define USER_CS 0x33
#define USER_SS 0x2b

    .text
    .globl kiln_syscall_entry
    .p2align 4
kiln_syscall_entry:
    movb  $0, kiln_in_user(%rip)
    movq  %rsp, kiln_syscall_user_rsp(%rip)
    movq  kiln_kernel_stack_top(%rip), %rsp
    pushq $USER_SS
    pushq kiln_syscall_user_rsp(%rip)
    pushq %r11                  /* rflags */
    pushq $USER_CS
    pushq %rcx                  /* rip */
    pushq $0                    /* error */
    pushq $SYSCALL_VECTOR
    SAVE_GENERAL_REGS
    cld
    movq  %rsp, %rdi
    xorl  %ebp, %ebp            /* backtraces stop here */
    call  kiln_syscall
    testl %eax, %eax
    jnz   full_return
    RESTORE_GENERAL_REGS
    addq  $16, %rsp             /* vector, error: now the IRET frame */
    movq  0(%rsp), %rcx         /* the syscall ABI clobbers RCX and R11 anyway */
    movq  16(%rsp), %r11
    cmpb  $0, kiln_pvm_active(%rip)
    jne   1f
    /* sysretq would #GP in ring 0 on a non-canonical RIP: iretq then */
    shlq  $16, %rcx
    sarq  $16, %rcx
    cmpq  0(%rsp), %rcx
    jne   2f
    movq  24(%rsp), %rsp        /* user stack; NMIs and #DF use IST stacks */
    sysretq
2:  iretq
1:  movq  24(%rsp), %rsp        /* user stack */
    movb  $0, kiln_vif+VIF_IF(%rip)
    movb  $1, kiln_in_user(%rip)
    int   $0x19
    ud2

    /*
     * kiln_syscall answered 1: a signal handler is entered or rt_sigreturn
     * replaced every register (RCX and R11 included), so the whole frame
     * goes back through the IRET path.
     */
    .globl kiln_full_return
kiln_full_return:
full_return:
    RESTORE_GENERAL_REGS
    addq  $16, %rsp             /* vector, error: now the IRET frame */
    cmpb  $0, kiln_pvm_active(%rip)
    jne   1f
    iretq
1:  movb  $0, kiln_vif+VIF_IF(%rip)
    movb  $1, kiln_in_user(%rip)
    int   $0x17                 /* IRET frame at RSP */
    ud2

/*
 * kiln_enter_user(rip, rsp): leaves the kernel for the application with
 * every general register zero and interrupts enabled in user mode.
 */
    .globl kiln_enter_user
kiln_enter_user:
    movq  kiln_kernel_stack_top(%rip), %rsp
    pushq $USER_SS
    pushq %rsi
    pushq $0x202                /* IF */
    pushq $USER_CS
    pushq %rdi
    xorl  %eax, %eax
    xorl  %ebx, %ebx
    xorl  %ecx, %ecx
    xorl  %edx, %edx
    xorl  %esi, %esi
    xorl  %edi, %edi
    xorl  %ebp, %ebp
    xorl  %r8d, %r8d
    xorl  %r9d, %r9d
    xorl  %r10d, %r10d
    xorl  %r11d, %r11d
    xorl  %r12d, %r12d
    xorl  %r13d, %r13d
    xorl  %r14d, %r14d
    xorl  %r15d, %r15d
    cmpb  $0, kiln_pvm_active(%rip)
    jne   1f
    iretq
1:  movb  $0, kiln_vif+VIF_IF(%rip)
    movb  $1, kiln_in_user(%rip)
    int   $0x17                 /* IRET frame at RSP */
    ud2

    .data
    .p2align 3
    .globl kiln_kernel_stack_top
kiln_kernel_stack_top:
    .quad kiln_boot_stack_top
kiln_syscall_user_rsp:
    .quad 0
