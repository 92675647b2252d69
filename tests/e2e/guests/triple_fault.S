/* Loads an empty IDT and executes ud2: no handler for #UD, so #GP, #DF and a
   triple fault. (int3 would not do on kvm-pvm: a software interrupt at
   virtual CPL0 is an emulation failure there, see int3.S.) */
#include "guest.h"
KILN_ENTRY64(_start)
.code64
.text
.globl _start
_start:
    lidt null_idt(%rip)
    ud2
    EXIT(1)
null_idt:
    .word 0
    .quad 0
