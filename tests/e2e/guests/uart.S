/* Prints a line through the 16550 at COM1 after checking LSR, exits 0. */
#include "guest.h"
KILN_ENTRY64(_start)
.code64
.text
.globl _start
_start:
    mov $(COM1 + 5), %dx
    inb %dx, %al
    cmp $0x60, %al               /* LSR: THR empty | transmitter empty */
    jne 1f
    lea msg(%rip), %rsi
    mov $(msg_end - msg), %ecx
    mov $COM1, %dx
2:  lodsb
    outb %al, %dx
    loop 2b
    outb %al, $0x80              /* an ignored port */
    EXIT(0)
1:  EXIT(3)
msg:
    .ascii "hello from the uart\n"
msg_end:
