/*
 * Switching kernel stacks between threads (sched/thread.cpp). The caller
 * saved what the C ABI lets a call clobber; this saves the rest.
 */
    .text
    .globl kiln_context_switch
    .p2align 4
kiln_context_switch:
    pushq %rbp
    pushq %rbx
    pushq %r12
    pushq %r13
    pushq %r14
    pushq %r15
    movq  %rsp, (%rdi)
    movq  %rsi, %rsp
    popq  %r15
    popq  %r14
    popq  %r13
    popq  %r12
    popq  %rbx
    popq  %rbp
    ret

/*
 * A new thread's first run: the stack holds the TrapFrame that clone built
 * (the parent's syscall frame, RAX 0, the new user stack).
 */
    .globl kiln_thread_start
kiln_thread_start:
    jmp   kiln_full_return
