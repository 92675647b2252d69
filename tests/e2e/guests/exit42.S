/* Checks the 64-bit entry state of lib/abi/boot.h, then exits with 42.
   Failures exit with 1..5 naming the first check that failed. */
#include "guest.h"
KILN_ENTRY64(_start)
.code64
.text
.globl _start
_start:
    cmp $0x1000, %rsi            /* RSI = start info */
    jne 1f
    cmpl $0x336ec578, (%rsi)     /* hvm_start_info.magic */
    jne 2f
    test %rsp, %rsp              /* RSP = 0 */
    jnz 3f
    movq 24(%rsi), %rax          /* cmdline_paddr */
    cmp $0x2000, %rax
    jne 4f
    mov %cs, %ax
    cmp $0x10, %ax
    jne 5f
    EXIT(42)
1:  EXIT(1)
2:  EXIT(2)
3:  EXIT(3)
4:  EXIT(4)
5:  EXIT(5)
