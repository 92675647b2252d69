/* Sends an ARP request for 10.0.2.2 through virtio-net and waits for the
   reply (the host's TAP in a test namespace, or kiln-slirp's gateway),
   skipping other packets (IPv6 neighbour discovery and the like). Exits
   66 on an ARP reply with num_buffers 1, 1 without the device, 3 when
   nothing came, 5 after 64 packets without the reply. */
#include "guest.h"
#include "virtio.h"
#include "virtio_net.h"
KILN_ENTRY64(_start)
.code64
.text
.globl _start
_start:
    lea stack_top(%rip), %rsp
    call net_init
    jnz 1f
    movq $RXBUF, RXDESC
    movl $2048, RXDESC + 8
    movw $2, RXDESC + 12                /* WRITE */
    xor %r12d, %r12d                    /* packets received */
    call post_rx

    mov $arp_request, %eax
    movq %rax, DESC
    movl $(arp_request_end - arp_request), DESC + 8
    movw $0, DESC + 12
    movw $0, AVAIL + 4
    movw $1, AVAIL + 2
    movl $1, REG_QUEUE_NOTIFY(%rbx)

wait:
    mov $400000000, %ecx
2:  movzwl RXUSED + 2, %eax
    cmp %r12d, %eax
    jne got
    pause
    dec %ecx
    jnz 2b
    EXIT(3)
got:
    inc %r12d
    cmpw $0x0608, RXBUF + 24            /* ethertype 0x0806 */
    jne next
    cmpw $0x0200, RXBUF + 32            /* ARP operation 2: reply */
    jne next
    cmpw $1, RXBUF + 10                 /* num_buffers */
    jne 4f
    EXIT(66)
next:
    cmp $64, %r12d
    je 5f
    call post_rx
    jmp wait
1:  EXIT(1)
4:  EXIT(4)
5:  EXIT(5)

/* Makes descriptor 0 (RXBUF) available once more. */
post_rx:
    movzwl RXAVAIL + 2, %eax
    mov %eax, %edx
    and $(QSIZE - 1), %edx
    movw $0, RXAVAIL + 4(,%rdx,2)
    inc %eax
    movw %ax, RXAVAIL + 2
    movl $0, REG_QUEUE_NOTIFY(%rbx)
    ret

NET_INIT_FN
ARP_REQUEST
.bss
.balign 16
    .skip 4096
stack_top:
