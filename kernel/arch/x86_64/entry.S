/*
 * Trap and interrupt entry. Every vector pushes (error code, vector) and
 * enters trap_common, which saves the registers into a TrapFrame (traps.h)
 * and calls kiln_trap(frame). The way back differs:
 *   ordinary x86: iretq;
 *   kvm-pvm: restore vif.if_ from the frame's IF (ring the doorbell if an
 *   event is pending), rewrite CS/SS to 0x33/0x2b and iretq natively (PVM.md).
 */
#include "trap_frame.inc"
#define VIF_IF 0
#define VIF_PENDING 1

    .text
    .globl kiln_trap_stubs
    .p2align 4
kiln_trap_stubs:
    .set vec, 0
    .rept 256
    .p2align 4
    /* vectors with a CPU-pushed error code: 8 10-14 17 21 29 30 */
    .if (vec == 8) || (vec >= 10 && vec <= 14) || (vec == 17) || (vec == 21) || (vec == 29) || (vec == 30)
    pushq $vec
    .else
    pushq $0
    pushq $vec
    .endif
    jmp   trap_common
    .set vec, vec + 1
    .endr

trap_common:
    /*
     * kvm-pvm: we are on the IST trampoline (descriptors.cpp says why), with
     * [vector, error, rip, cs, rflags, rsp, ss] at RSP. Move those seven words
     * to the kernel stack (from the app) or just below the interrupted
     * kernel RSP, keeping the frame's 16-byte alignment, and go on there.
     * Events are masked (vif.if_ = 0) until we unmask, so nothing nests here.
     * #DF and NMI keep their own IST stacks.
     */
    cmpb  $0, kiln_pvm_active(%rip)
    je    9f
    cmpq  $8, 0(%rsp)
    je    9f
    cmpq  $2, 0(%rsp)
    je    9f
    pushq %rax
    pushq %rbx
    movq  16+5*8(%rsp), %rax    /* the interrupted RSP */
    cmpb  $0, kiln_in_user(%rip)
    je    1f
    movq  kiln_kernel_stack_top(%rip), %rax
1:  andq  $-16, %rax
    subq  $56, %rax
    /* A kernel stack overflow: the guard page cannot take the frame, so the
       (fatal) report runs on the trampoline. */
    leaq  kiln_boot_stack_guard(%rip), %rbx
    cmpq  %rbx, %rax
    jb    2f
    addq  $(4096 + 1024), %rbx
    cmpq  %rbx, %rax
    jae   2f
    popq  %rbx
    popq  %rax
    jmp   9f
2:  .irp i, 0, 1, 2, 3, 4, 5, 6
    movq  16+8*\i(%rsp), %rbx
    movq  %rbx, 8*\i(%rax)
    .endr
    movq  8(%rsp), %rbx
    movq  %rbx, kiln_entry_scratch(%rip)
    movq  0(%rsp), %rbx
    movq  %rax, %rsp
    movq  kiln_entry_scratch(%rip), %rax
9:  SAVE_GENERAL_REGS
    cld
    /*
     * kvm-pvm: a frame's CS does not tell kernel from app (once a native
     * iretq has returned to the kernel with CS 0x33, the next kernel frame
     * carries 0x33 too), so the kernel keeps kiln_in_user and writes the
     * frame's CS/SS from it: 0x10/0x18 kernel, 0x33/0x2b app.
     */
    cmpb  $0, kiln_pvm_active(%rip)
    je    2f
    cmpb  $0, kiln_in_user(%rip)
    jne   1f
    movq  $0x10, 18*8(%rsp)
    movq  $0x18, 21*8(%rsp)
    jmp   2f
1:  movb  $0, kiln_in_user(%rip)
    movq  $0x33, 18*8(%rsp)
    movq  $0x2b, 21*8(%rsp)
2:  movq  %rsp, %rdi
    /* a frame pointer chain through the interrupted code for backtraces */
    pushq 17*8(%rsp)            /* the interrupted RIP (above 15 regs, vector, error) */
    pushq %rbp
    movq  %rsp, %rbp
    call  kiln_trap
    addq  $16, %rsp
    RESTORE_GENERAL_REGS
    addq  $16, %rsp             /* vector, error code */
    cmpb  $0, kiln_pvm_active(%rip)
    jne   pvm_return
    iretq

pvm_return:
    cmpq  $0x10, 8(%rsp)        /* trap_common marked kernel frames 0x10 */
    je    3f
    movb  $0, kiln_vif+VIF_IF(%rip)
    movb  $1, kiln_in_user(%rip)
    int   $0x17                 /* back to the app through the IRET frame */
3:  movq  $0x33, 8(%rsp)
    movq  $0x2b, 32(%rsp)
    testl $0x200, 16(%rsp)
    jz    1f
    movb  $1, kiln_vif+VIF_IF(%rip)
    cmpb  $0, kiln_vif+VIF_PENDING(%rip)
    je    1f
    pushq %rax
    outb  %al, $0x80            /* doorbell */
    popq  %rax
1:  iretq

/*
 * Unmask and halt on kvm-pvm. An event arriving between the unmask and the
 * HALT hypercall would be handled and the halt would then sleep past it, so
 * kiln_trap moves an interrupted RIP inside [halt_begin, halt_end) to
 * halt_end: the halt is skipped, as sti;hlt's interrupt shadow does natively.
 */
    .globl kiln_pvm_halt, kiln_pvm_halt_begin, kiln_pvm_halt_end
kiln_pvm_halt:
    pushq %rbx
kiln_pvm_halt_begin:
    movb  $1, kiln_vif+VIF_IF(%rip)
    cmpb  $0, kiln_vif+VIF_PENDING(%rip)
    jne   2f
    movl  $0x1009, %eax         /* HALT */
    int   $0x1b
kiln_pvm_halt_end:
    popq  %rbx
    ret
2:  outb  %al, $0x80            /* deliver the pending event instead of halting */
    jmp   kiln_pvm_halt_end

    .data
    .p2align 3
kiln_entry_scratch:
    .quad 0
    .globl kiln_in_user
kiln_in_user:
    .byte 0                     /* kvm-pvm: 1 while the app runs */

    .bss
    .p2align 12
    .globl kiln_vif
kiln_vif:
    .skip 4096
