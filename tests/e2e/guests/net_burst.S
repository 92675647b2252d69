/* A burst costs one notification each way: with EVENT_IDX, offers eight
   receive buffers (one kick) and queues eight ARP requests (one kick), each
   queue asking for an interrupt only once all eight are used (used_event
   7). kiln-slirp answers every request. Exits 66 once all sixteen buffers
   are used; the test reads the kicks and interrupts in --stats. */
#include "guest.h"
#include "virtio.h"
#include "virtio_net.h"
KILN_ENTRY64(_start)
.code64
.text
.globl _start
_start:
    lea stack_top(%rip), %rsp
    mov $(FEATURE_MRG_RXBUF | FEATURE_EVENT_IDX), %esi
    call net_init_features
    jnz 1f
    xor %ecx, %ecx
2:  mov %ecx, %eax
    shl $11, %eax                       /* receive buffer i: 2 KiB at RXBUF + 2 KiB i */
    lea RXBUF(%rax), %rdx
    mov %ecx, %eax
    shl $4, %eax
    movq %rdx, RXDESC(%rax)
    movl $2048, RXDESC + 8(%rax)
    movw $2, RXDESC + 12(%rax)          /* WRITE */
    mov $arp_request, %edx              /* transmit descriptor i: the request */
    movq %rdx, DESC(%rax)
    movl $(arp_request_end - arp_request), DESC + 8(%rax)
    movw $0, DESC + 12(%rax)
    movw %cx, RXAVAIL + 4(,%rcx,2)
    movw %cx, AVAIL + 4(,%rcx,2)
    inc %ecx
    cmp $QSIZE, %ecx
    jne 2b
    movw $(QSIZE - 1), RXUSED_EVENT
    movw $(QSIZE - 1), USED_EVENT
    movw $QSIZE, RXAVAIL + 2
    movl $0, REG_QUEUE_NOTIFY(%rbx)
    movw $QSIZE, AVAIL + 2
    movl $1, REG_QUEUE_NOTIFY(%rbx)

    mov $400000000, %ecx
3:  cmpw $QSIZE, RXUSED + 2
    jne 4f
    cmpw $QSIZE, USED + 2
    jne 4f
    EXIT(66)
4:  pause
    dec %ecx
    jnz 3b
    EXIT(3)
1:  EXIT(1)

NET_INIT_FN
ARP_REQUEST
.bss
.balign 16
    .skip 4096
stack_top:
