/* The console port (lib/abi/boot.h, kPortConsole): two good writes, then
   requests a hostile guest could make. Exits 42 when every answer was
   right, else 1..6 naming the first wrong one. */
#include "guest.h"
#define PORT_CONSOLE 0x4b0
KILN_ENTRY64(_start)
.code64
.text
.globl _start

/* submit: request at %rdi (virtual); returns its result in %rax */
submit:
    mov %rdi, %rax
    movabs $KERNEL_VIRT_BASE, %rdx
    sub %rdx, %rax
    mov $PORT_CONSOLE, %dx
    outl %eax, %dx
    mov 16(%rdi), %rax
    ret

/* fill: request %rdi <- stream %esi, len %ecx, buf %r8 (physical) */
fill:
    movl %esi, 0(%rdi)
    movl %ecx, 4(%rdi)
    movq %r8, 8(%rdi)
    movq $0x7777, 16(%rdi)
    ret

_start:
    lea stack_top(%rip), %rsp
    lea req(%rip), %rdi
    movabs $KERNEL_VIRT_BASE, %rdx
    lea msg_out(%rip), %r8
    sub %rdx, %r8
    mov $1, %esi
    mov $(msg_out_end - msg_out), %ecx
    call fill
    call submit
    cmp $(msg_out_end - msg_out), %rax
    jne 1f

    lea req(%rip), %rdi
    movabs $KERNEL_VIRT_BASE, %rdx
    lea msg_err(%rip), %r8
    sub %rdx, %r8
    mov $2, %esi
    mov $(msg_err_end - msg_err), %ecx
    call fill
    call submit
    cmp $(msg_err_end - msg_err), %rax
    jne 2f

    mov $3, %esi                 /* no such stream */
    call fill
    call submit
    cmp $-22, %rax
    jne 3f

    mov $1, %esi                 /* bytes outside guest RAM */
    movabs $0xfffffffffffff000, %r8
    mov $16, %ecx
    call fill
    call submit
    cmp $-14, %rax
    jne 4f

    mov $0x100000, %r8           /* starts in RAM, runs past its end */
    mov $0xffffffff, %ecx
    call fill
    call submit
    cmp $-14, %rax
    jne 5f

    mov $0xfffff000, %eax        /* the request itself outside RAM: ignored */
    mov $PORT_CONSOLE, %dx
    outl %eax, %dx
    lea req+1(%rip), %rax        /* misaligned request: ignored */
    movabs $KERNEL_VIRT_BASE, %rdx
    sub %rdx, %rax
    mov $PORT_CONSOLE, %dx
    outl %eax, %dx
    cmpq $-14, req+16(%rip)      /* and the last answer was left alone */
    jne 6f
    EXIT(42)
1:  EXIT(1)
2:  EXIT(2)
3:  EXIT(3)
4:  EXIT(4)
5:  EXIT(5)
6:  EXIT(6)

.data
.balign 8
req: .skip 24
msg_out: .ascii "port to stdout\n"
msg_out_end:
msg_err: .ascii "port to stderr\n"
msg_err_end:
.balign 16
.skip 512
stack_top:
