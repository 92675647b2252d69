/* Attacks the network device with bad chains; each must leave the monitor
   running, most with DEVICE_NEEDS_RESET set (checked by polling the status:
   the device works on its own thread). Round 1: a transmit descriptor whose
   next points at itself. 2: a transmit buffer outside guest RAM. 3: a
   device-writable buffer in a transmit chain. 4: an avail index more than a
   queue ahead. 5: a 1 MiB transmit packet, which is dropped without a reset.
   6: a device-readable receive buffer, found when the reply to an ARP
   request arrives (needs --net user). Exits 7 when all held, else the
   round that failed (10 + round when the device did not react at all). */
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
    mov $arp_request, %eax
    movq %rax, DESC
    movl $54, DESC + 8
    movw $1, DESC + 12                  /* NEXT */
    movw $0, DESC + 14                  /* next = 0: a loop */
    movw $1, AVAIL + 2
    movl $1, REG_QUEUE_NOTIFY(%rbx)
    call wait_reset
    jz 11f

    call net_rings_clear
    call net_init
    jnz 1f
    movabs $0xfffffffffffff000, %rax
    movq %rax, DESC
    movl $0x2000, DESC + 8
    movw $1, AVAIL + 2
    movl $1, REG_QUEUE_NOTIFY(%rbx)
    call wait_reset
    jz 12f

    call net_rings_clear
    call net_init
    jnz 1f
    mov $arp_request, %eax
    movq %rax, DESC
    movl $54, DESC + 8
    movw $1, DESC + 12                  /* NEXT */
    movw $1, DESC + 14
    movq $RXBUF, DESC + 16
    movl $64, DESC + 24
    movw $2, DESC + 28                  /* WRITE: not in a transmit chain */
    movw $1, AVAIL + 2
    movl $1, REG_QUEUE_NOTIFY(%rbx)
    call wait_reset
    jz 13f

    call net_rings_clear
    call net_init
    jnz 1f
    movw $100, AVAIL + 2                /* 100 > QSIZE buffers ahead */
    movl $1, REG_QUEUE_NOTIFY(%rbx)
    call wait_reset
    jz 14f

    call net_rings_clear
    call net_init
    jnz 1f
    movq $0x400000, DESC
    movl $0x100000, DESC + 8            /* in RAM, but no packet is 1 MiB */
    movw $1, AVAIL + 2
    movl $1, REG_QUEUE_NOTIFY(%rbx)
    mov $400000000, %ecx
2:  cmpw $1, USED + 2                   /* returned (dropped) ... */
    je 3f
    pause
    dec %ecx
    jnz 2b
    jmp 15f
3:  testl $64, REG_STATUS(%rbx)         /* ... without a reset */
    jnz 5f

    call net_rings_clear
    call net_init
    jnz 1f
    movq $RXBUF, RXDESC
    movl $2048, RXDESC + 8
    movw $0, RXDESC + 12                /* device-readable: not for receiveq */
    movw $1, RXAVAIL + 2
    movl $0, REG_QUEUE_NOTIFY(%rbx)
    mov $arp_request, %eax
    movq %rax, DESC
    movl $54, DESC + 8
    movw $1, AVAIL + 2
    movl $1, REG_QUEUE_NOTIFY(%rbx)
    call wait_reset
    jz 16f
    EXIT(7)
1:  EXIT(1)
5:  EXIT(5)
11: EXIT(11)
12: EXIT(12)
13: EXIT(13)
14: EXIT(14)
15: EXIT(15)
16: EXIT(16)

/* Polls the status for DEVICE_NEEDS_RESET: ZF=0 when set, ZF=1 after a
   few seconds without it. */
wait_reset:
    mov $200000, %ecx
1:  testl $64, REG_STATUS(%rbx)
    jnz 2f
    pause
    dec %ecx
    jnz 1b
2:  ret

NET_INIT_FN
NET_RINGS_CLEAR_FN
ARP_REQUEST
.bss
.balign 16
    .skip 4096
stack_top:
