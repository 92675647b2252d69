/* Checks the PVH module list kiln-vmm writes for two --initrd files: two
   entries, in order, page-aligned, the second below the first, each holding
   its file (first byte 'A' or 'B', last byte 'Z'). Exits 44; failures exit
   with 1..5 naming the first check that failed. */
#include "guest.h"
KILN_ENTRY64(_start)
.code64
.text
.globl _start
_start:
    cmpl $2, 12(%rsi)            /* hvm_start_info.nr_modules */
    jne 1f
    movq 16(%rsi), %rbx          /* modlist_paddr */
    movq 0(%rbx), %r8            /* module 0: paddr, size */
    movq 8(%rbx), %r9
    movq 32(%rbx), %r10          /* module 1: paddr, size */
    movq 40(%rbx), %r11
    mov %r8, %rax
    or %r10, %rax
    test $0xfff, %rax            /* both page-aligned */
    jnz 2f
    cmpb $'A', (%r8)
    jne 3f
    cmpb $'B', (%r10)
    jne 3f
    cmpb $'Z', -1(%r8,%r9)
    jne 4f
    cmpb $'Z', -1(%r10,%r11)
    jne 4f
    lea (%r10,%r11), %rax        /* module 1 ends at or below module 0 */
    cmp %r8, %rax
    ja 5f
    EXIT(44)
1:  EXIT(1)
2:  EXIT(2)
3:  EXIT(3)
4:  EXIT(4)
5:  EXIT(5)
