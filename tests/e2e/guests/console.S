/* Writes two messages through virtio-console's transmitq: one single-buffer
   chain, then a two-buffer chain and a one-buffer chain in one notify.
   Checks the used ring after each notify (processed synchronously) and that
   the device asked for an interrupt. Exits 0, or 1..6 on failure. */
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
    movl $0xffff, USED_EVENT          /* suppress interrupts for now */

    /* desc[0] = msg1 */
    mov $msg1, %eax
    movq %rax, DESC
    movl $(msg1_end - msg1), DESC + 8
    movw $0, DESC + 12
    movw $0, AVAIL + 4                /* ring[0] = 0 */
    movw $1, AVAIL + 2                /* idx = 1 */
    movl $1, REG_QUEUE_NOTIFY(%rbx)
    cmpw $1, USED + 2
    jne 2f
    cmpw $1, AVAIL_EVENT              /* EVENT_IDX: device wants the next one */
    jne 3f
    cmpl $0, REG_INTERRUPT_STATUS(%rbx) /* suppressed via used_event */
    jne 4f

    /* desc[1] -> desc[2] = msg2a + msg2b, desc[3] = msg3 */
    movl $1, USED_EVENT               /* interrupt once used idx passes 1 */
    mov $msg2a, %eax
    movq %rax, DESC + 16
    movl $(msg2a_end - msg2a), DESC + 24
    movw $1, DESC + 28                /* NEXT */
    movw $2, DESC + 30
    mov $msg2b, %eax
    movq %rax, DESC + 32
    movl $(msg2b_end - msg2b), DESC + 40
    movw $0, DESC + 44
    mov $msg3, %eax
    movq %rax, DESC + 48
    movl $(msg3_end - msg3), DESC + 56
    movw $0, DESC + 60
    movw $1, AVAIL + 6                /* ring[1] = 1 */
    movw $3, AVAIL + 8                /* ring[2] = 3 */
    movw $3, AVAIL + 2                /* idx = 3 */
    movl $1, REG_QUEUE_NOTIFY(%rbx)
    cmpw $3, USED + 2
    jne 5f
    testl $1, REG_INTERRUPT_STATUS(%rbx)
    jz 6f
    movl $1, REG_INTERRUPT_ACK(%rbx)
    EXIT(0)
1:  EXIT(1)
2:  EXIT(2)
3:  EXIT(3)
4:  EXIT(4)
5:  EXIT(5)
6:  EXIT(6)
CONSOLE_INIT_FN
msg1:  .ascii "hello from virtio-console\n"
msg1_end:
msg2a: .ascii "second "
msg2a_end:
msg2b: .ascii "chain\n"
msg2b_end:
msg3:  .ascii "third\n"
msg3_end:
.bss
.balign 16
    .skip 4096
stack_top:
