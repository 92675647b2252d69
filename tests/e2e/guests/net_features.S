/* Reads the network device's feature bits 0..31 and exits with them packed:
   bit 0 GUEST_TSO4, 1 GUEST_TSO6, 2 HOST_TSO4, 3 HOST_TSO6, 4 MRG_RXBUF,
   5 CSUM and GUEST_CSUM both, 6 MAC and STATUS both. Exits 1 without the
   device. */
#include "guest.h"
#include "virtio.h"
#include "virtio_net.h"
#define REG_DEVICE_FEATURES 0x010
#define REG_DEVICE_FEATURES_SEL 0x014
KILN_ENTRY64(_start)
.code64
.text
.globl _start
_start:
    movl $NET_BASE, %ebx
    cmpl $0x74726976, REG_MAGIC(%rbx)
    jne 1f
    cmpl $1, REG_DEVICE_ID(%rbx)
    jne 1f
    movl $0, REG_DEVICE_FEATURES_SEL(%rbx)
    movl REG_DEVICE_FEATURES(%rbx), %esi
    mov %esi, %eax
    shr $7, %eax
    and $3, %eax                        /* GUEST_TSO4/6 */
    mov %esi, %edx
    shr $9, %edx
    and $0xc, %edx                      /* HOST_TSO4/6 */
    or %edx, %eax
    mov %esi, %edx
    shr $11, %edx
    and $0x10, %edx                     /* MRG_RXBUF (bit 15) */
    or %edx, %eax
    mov %esi, %edx
    and $3, %edx
    cmp $3, %edx
    jne 2f
    or $0x20, %eax                      /* CSUM and GUEST_CSUM */
2:  mov %esi, %edx
    and $0x10020, %edx
    cmp $0x10020, %edx
    jne 3f
    or $0x40, %eax                      /* MAC and STATUS */
3:  outl %eax, $PORT_EXIT
    hlt
1:  EXIT(1)
