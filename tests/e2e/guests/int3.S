/* Loads an empty IDT and executes int3. On VMX/SVM KVM this triple-faults;
   on kvm-pvm a software interrupt at virtual CPL0 is an emulation failure
   (KVM_EXIT_INTERNAL_ERROR). Either way the guest crashed: status 114. */
#include "guest.h"
KILN_ENTRY64(_start)
.code64
.text
.globl _start
_start:
    lidt null_idt(%rip)
    int3
    EXIT(1)
null_idt:
    .word 0
    .quad 0
