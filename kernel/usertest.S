/*
 * A position-independent snippet the `usertest` job runs in ring 3 to check
 * the way into and out of the application without a loader: a syscall
 * (write), a second one (getpid), then ud2, which must end the program
 * with SIGILL (status 132) and a report.
 */
    .section .rodata
    .globl kiln_usertest_code, kiln_usertest_code_end
    .p2align 4
kiln_usertest_code:
    movl  $1, %edi
    leaq  1f(%rip), %rsi
    movl  $(2f - 1f), %edx
    movl  $1, %eax              /* write */
    syscall
    movq  %rax, %rbx
    movl  $39, %eax             /* getpid */
    syscall
    movq  %rax, %r12
    ud2
1:  .ascii "hello from user mode\n"
2:
kiln_usertest_code_end:
