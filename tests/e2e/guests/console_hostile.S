/* Attacks the console device with bad chains; each must leave the monitor
   running with DEVICE_NEEDS_RESET set. Round 1: a descriptor whose next
   points at itself. Round 2: a buffer outside guest RAM. Round 3: an avail
   index that runs more than a queue ahead. Exits 7 when all held. */
#include "guest.h"
#include "virtio.h"
KILN_ENTRY64(_start)
.code64
.text
.globl _start
_start:
    lea stack_top(%rip), %rsp

    call console_init
    jnz 1f
    mov $msg, %eax
    movq %rax, DESC
    movl $4, DESC + 8
    movw $1, DESC + 12                /* NEXT */
    movw $0, DESC + 14                /* next = 0: a loop */
    movw $1, AVAIL + 2
    movl $1, REG_QUEUE_NOTIFY(%rbx)
    testl $64, REG_STATUS(%rbx)
    jz 2f

    call rings_clear
    call console_init
    jnz 1f
    movabs $0xfffffffffffff000, %rax
    movq %rax, DESC
    movl $0x2000, DESC + 8
    movw $1, AVAIL + 2
    movl $1, REG_QUEUE_NOTIFY(%rbx)
    testl $64, REG_STATUS(%rbx)
    jz 3f

    call rings_clear
    call console_init
    jnz 1f
    movw $100, AVAIL + 2              /* 100 > QSIZE buffers ahead */
    movl $1, REG_QUEUE_NOTIFY(%rbx)
    testl $64, REG_STATUS(%rbx)
    jz 4f
    EXIT(7)
1:  EXIT(1)
2:  EXIT(2)
3:  EXIT(3)
4:  EXIT(4)
CONSOLE_INIT_FN
RINGS_CLEAR_FN
msg: .ascii "bad\n"
.bss
.balign 16
    .skip 4096
stack_top:
