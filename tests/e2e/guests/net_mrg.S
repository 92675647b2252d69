/* Mergeable receive buffers: offers eight 16-byte receive buffers, sends an
   ARP request (answered by kiln-slirp) and checks that the reply was spread
   over several buffers in ring order: num_buffers in the header equals the
   used entries, the first used entry is descriptor 0 with 16 bytes, and the
   reply's ethertype and ARP operation sit where 16-byte pieces put them.
   Exits 66 when all held; 3 when nothing came; 4..8 for each check. */
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
    xor %ecx, %ecx
2:  mov %ecx, %eax
    shl $4, %eax                        /* descriptor i: 16 bytes at RXBUF + 16 i */
    lea RXBUF(%rax), %rdx
    mov %ecx, %eax
    shl $4, %eax
    movq %rdx, RXDESC(%rax)
    movl $16, RXDESC + 8(%rax)
    movw $2, RXDESC + 12(%rax)          /* WRITE */
    movw %cx, RXAVAIL + 4(,%rcx,2)
    inc %ecx
    cmp $QSIZE, %ecx
    jne 2b
    movw $QSIZE, RXAVAIL + 2
    movl $0, REG_QUEUE_NOTIFY(%rbx)

    mov $arp_request, %eax
    movq %rax, DESC
    movl $(arp_request_end - arp_request), DESC + 8
    movw $1, AVAIL + 2
    movl $1, REG_QUEUE_NOTIFY(%rbx)

    mov $400000000, %ecx
3:  movzwl RXUSED + 2, %eax
    test %eax, %eax
    jz 4f
    movzwl RXBUF + 10, %edx             /* num_buffers */
    cmp %edx, %eax
    jae got                             /* all of the packet's entries are there */
4:  pause
    dec %ecx
    jnz 3b
    EXIT(3)
got:
    cmp $2, %edx                        /* 12 + 42 bytes need at least 4 */
    jb 5f
    cmp %edx, %eax
    jne 6f
    cmpl $0, RXUSED + 4                 /* used[0].id */
    jne 7f
    cmpl $16, RXUSED + 8                /* used[0].len */
    jne 7f
    cmpw $0x0608, RXBUF + 24            /* ethertype, in the second buffer */
    jne 8f
    cmpw $0x0200, RXBUF + 32            /* ARP reply, in the third */
    jne 8f
    EXIT(66)
1:  EXIT(1)
5:  EXIT(5)
6:  EXIT(6)
7:  EXIT(7)
8:  EXIT(8)

NET_INIT_FN
ARP_REQUEST
.bss
.balign 16
    .skip 4096
stack_top:
