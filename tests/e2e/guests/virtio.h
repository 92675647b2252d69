/* A minimal virtio-mmio console driver for the test guests: transmitq (queue
   1) of 8 entries with its rings at fixed guest-physical pages. */
#define REG_MAGIC 0x000
#define REG_DEVICE_ID 0x008
#define REG_DRIVER_FEATURES 0x020
#define REG_DRIVER_FEATURES_SEL 0x024
#define REG_QUEUE_SEL 0x030
#define REG_QUEUE_NUM 0x038
#define REG_QUEUE_READY 0x044
#define REG_QUEUE_NOTIFY 0x050
#define REG_INTERRUPT_STATUS 0x060
#define REG_INTERRUPT_ACK 0x064
#define REG_STATUS 0x070
#define REG_QUEUE_DESC 0x080
#define REG_QUEUE_DRIVER 0x090
#define REG_QUEUE_DEVICE 0x0a0
#define DESC 0x200000
#define AVAIL 0x201000
#define USED 0x202000
#define QSIZE 8
#define USED_EVENT (AVAIL + 4 + 2 * QSIZE)
#define AVAIL_EVENT (USED + 4 + 8 * QSIZE)

/* console_init: %rbx = device base. Returns ZF=1 on success. Clobbers eax. */
.macro CONSOLE_INIT_FN
console_init:
    movl $VIRTIO_BASE, %ebx
    cmpl $0x74726976, REG_MAGIC(%rbx)
    jne 9f
    cmpl $3, REG_DEVICE_ID(%rbx)
    jne 9f
    movl $0, REG_STATUS(%rbx)
    movl $1, REG_STATUS(%rbx)
    movl $3, REG_STATUS(%rbx)
    movl $1, REG_DRIVER_FEATURES_SEL(%rbx)
    movl $1, REG_DRIVER_FEATURES(%rbx)          /* VERSION_1 */
    movl $0, REG_DRIVER_FEATURES_SEL(%rbx)
    movl $0x20000000, REG_DRIVER_FEATURES(%rbx) /* EVENT_IDX */
    movl $11, REG_STATUS(%rbx)
    testl $8, REG_STATUS(%rbx)
    jz 9f
    movl $1, REG_QUEUE_SEL(%rbx)
    movl $QSIZE, REG_QUEUE_NUM(%rbx)
    movl $DESC, REG_QUEUE_DESC(%rbx)
    movl $AVAIL, REG_QUEUE_DRIVER(%rbx)
    movl $USED, REG_QUEUE_DEVICE(%rbx)
    movl $1, REG_QUEUE_READY(%rbx)
    movl $15, REG_STATUS(%rbx)
    xor %eax, %eax                              /* ZF=1 */
    ret
9:  or $1, %eax                                 /* ZF=0 */
    ret
.endm

/* Zeroes the three ring pages (after a device reset). */
.macro RINGS_CLEAR_FN
rings_clear:
    mov $DESC, %edi
    mov $(3 * 4096 / 8), %ecx
    xor %eax, %eax
    rep stosq
    ret
.endm
