/* Enters through the Xen PVH note in 32-bit protected mode and checks the
   PVH state: paging off, EBX = start info with the magic. Exits 43. */
#include "guest.h"
XEN_PVH_ENTRY(_start)
.code32
.text
.globl _start
_start:
    cmp $0x1000, %ebx
    jne 1f
    cmpl $0x336ec578, (%ebx)
    jne 2f
    mov %cr0, %eax
    test $0x80000000, %eax       /* paging off */
    jnz 3f
    EXIT(43)
1:  EXIT(1)
2:  EXIT(2)
3:  EXIT(3)
