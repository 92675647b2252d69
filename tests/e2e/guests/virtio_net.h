/* A minimal virtio-net driver for the test guests (the device is virtio-mmio
   slot 1): receiveq 0 and transmitq 1 of 8 entries each, rings at fixed
   guest-physical pages; transmitq reuses virtio.h's DESC/AVAIL/USED. No
   interrupts: the guests poll the used rings (the I/O APIC pin stays masked). */
#define NET_BASE 0xd0001000
#define RXDESC 0x210000
#define RXAVAIL 0x211000
#define RXUSED 0x212000
#define RXBUF 0x220000
#define FEATURE_MRG_RXBUF 0x8000
#define FEATURE_EVENT_IDX 0x20000000
#define RXUSED_EVENT (RXAVAIL + 4 + 2 * QSIZE)

/* net_init: %rbx = device base; negotiates VERSION_1 and MRG_RXBUF and makes
   both queues live. Returns ZF=1 on success. Clobbers eax and esi.
   net_init_features: the same with the low feature bits in %esi. */
.macro NET_INIT_FN
net_init:
    mov $FEATURE_MRG_RXBUF, %esi
net_init_features:
    movl $NET_BASE, %ebx
    cmpl $0x74726976, REG_MAGIC(%rbx)
    jne 9f
    cmpl $1, REG_DEVICE_ID(%rbx)
    jne 9f
    movl $0, REG_STATUS(%rbx)
    movl $1, REG_STATUS(%rbx)
    movl $3, REG_STATUS(%rbx)
    movl $1, REG_DRIVER_FEATURES_SEL(%rbx)
    movl $1, REG_DRIVER_FEATURES(%rbx)          /* VERSION_1 */
    movl $0, REG_DRIVER_FEATURES_SEL(%rbx)
    movl %esi, REG_DRIVER_FEATURES(%rbx)
    movl $11, REG_STATUS(%rbx)
    testl $8, REG_STATUS(%rbx)
    jz 9f
    movl $0, REG_QUEUE_SEL(%rbx)
    movl $QSIZE, REG_QUEUE_NUM(%rbx)
    movl $RXDESC, REG_QUEUE_DESC(%rbx)
    movl $RXAVAIL, REG_QUEUE_DRIVER(%rbx)
    movl $RXUSED, REG_QUEUE_DEVICE(%rbx)
    movl $1, REG_QUEUE_READY(%rbx)
    movl $1, REG_QUEUE_SEL(%rbx)
    movl $QSIZE, REG_QUEUE_NUM(%rbx)
    movl $DESC, REG_QUEUE_DESC(%rbx)
    movl $AVAIL, REG_QUEUE_DRIVER(%rbx)
    movl $USED, REG_QUEUE_DEVICE(%rbx)
    movl $1, REG_QUEUE_READY(%rbx)
    movw $1, AVAIL                              /* NO_INTERRUPT */
    movw $1, RXAVAIL
    movl $15, REG_STATUS(%rbx)
    xor %eax, %eax                              /* ZF=1 */
    ret
9:  or $1, %eax                                 /* ZF=0 */
    ret
.endm

/* Zeroes both queues' ring pages (after a device reset). */
.macro NET_RINGS_CLEAR_FN
net_rings_clear:
    mov $DESC, %edi
    mov $(3 * 4096 / 8), %ecx
    xor %eax, %eax
    rep stosq
    mov $RXDESC, %edi
    mov $(3 * 4096 / 8), %ecx
    rep stosq
    ret
.endm

/* The ARP request "who has 10.0.2.2? tell 10.0.2.15" from 52:54:00:12:34:56
   behind a zeroed 12-byte virtio_net_hdr: 54 bytes. */
.macro ARP_REQUEST
arp_request:
    .fill 12, 1, 0
    .byte 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x52, 0x54, 0x00, 0x12, 0x34, 0x56
    .byte 0x08, 0x06, 0x00, 0x01, 0x08, 0x00, 0x06, 0x04, 0x00, 0x01
    .byte 0x52, 0x54, 0x00, 0x12, 0x34, 0x56, 10, 0, 2, 15
    .byte 0, 0, 0, 0, 0, 0, 10, 0, 2, 2
arp_request_end:
.endm
