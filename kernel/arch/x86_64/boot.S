/*
 * Boot entries of the kiln kernel (contract: lib/abi/boot.h).
 *
 *  kiln_entry64   long mode on the monitor's page tables (kiln-vmm).
 *  kiln_pvh_entry 32-bit protected mode, paging off (Xen PVH: QEMU, Firecracker, ...).
 *
 * Both reach kiln_boot64 at the kernel's virtual address with RDI = start
 * info (physical) and RSI = boot flags. On kvm-pvm, every instruction before
 * the native switch (PVM.md) is emulated at ~1 us, so the switch comes first.
 */
#define KVMA 0xffffffff80000000
#define PHYS(x) ((x) - KVMA)
#define MSR_EFER 0xc0000080
#define MSR_PVM_SWITCH 0x4b564d10
#define MSR_PVM_SIGNATURE 0x4b564d11
#define PVM_SIGNATURE 0x4d5650
#define PVM_SWITCH_FLAGS 0x7f
#define BOOT_FLAG_PVM 1

/* ---- ELF notes ---- */
    .section .note.Xen, "a", @note
    .p2align 2
    .long 4, 8, 18              /* namesz, descsz, XEN_ELFNOTE_PHYS32_ENTRY */
    .asciz "Xen"
    .quad PHYS(kiln_pvh_entry)

    .section .note.Kiln, "a", @note
    .p2align 2
    .long 5, 8, 1               /* namesz, descsz, kKilnNoteEntry64 */
    .asciz "Kiln"
    .p2align 2
    .quad kiln_entry64

    .p2align 2
    .long 5, 32, 2              /* namesz, descsz, kKilnNoteDescriptors */
    .asciz "Kiln"
    .p2align 2
    .quad kiln_gdt, kiln_idt, kiln_tss
    .short 9 * 8 - 1, 256 * 16 - 1, 104 - 1, 0

    .p2align 2
    .long 5, 16, 3              /* namesz, descsz, kKilnNoteLayout */
    .asciz "Kiln"
    .p2align 2
    .quad __kernel_end, kiln_boot_stack_guard

/* ---- 64-bit entry (kiln-vmm): RDI = flags, RSI = start info, RDX = the
        end of the monitor's page tables (kBootFlagKernelTables) ---- */
    .section .boot.text, "ax"
    .code64
    .globl kiln_entry64
kiln_entry64:
    testl $BOOT_FLAG_PVM, %edi
    jz    1f
    movq  %rdx, %r8             /* wrmsr takes EDX */
    movl  $MSR_PVM_SWITCH, %ecx
    movl  $(PHYS(kiln_vif) + PVM_SWITCH_FLAGS), %eax
    xorl  %edx, %edx
    wrmsr                       /* from here on, supervisor code runs natively */
    movq  %r8, %rdx
1:  xchgq %rdi, %rsi            /* RDI = start info, RSI = flags */
    movabsq $kiln_boot64, %rax
    jmp   *%rax

/* ---- 32-bit PVH entry: EBX = start info, flat segments, paging off ---- */
    .code32
    .globl kiln_pvh_entry
kiln_pvh_entry:
    cld
    /* The boot page tables (see .boot.tables below). */
    movl  $PHYS(boot_pml4), %edi
    movl  $((boot_tables_end - boot_pml4) / 4), %ecx
    xorl  %eax, %eax
    rep stosl
    movl  $(PHYS(boot_pdpt_low) + 7), PHYS(boot_pml4)
    movl  $(PHYS(boot_pdpt_high) + 7), PHYS(boot_pml4) + 511 * 8
    movl  $(PHYS(boot_pdpt_low) + 7), PHYS(boot_pml4_user)
    movl  $(PHYS(boot_pdpt_high) + 7), PHYS(boot_pml4_user) + 511 * 8
    movl  $(PHYS(boot_pd) + 7), PHYS(boot_pdpt_low)
    movl  $(PHYS(boot_pd) + 7), PHYS(boot_pdpt_high) + 510 * 8
    movl  $PHYS(boot_pd), %edi
    movl  $0x87, %eax           /* P | RW | US | PS, 2 MiB pages */
    movl  $512, %ecx
1:  movl  %eax, (%edi)
    addl  $0x200000, %eax
    addl  $8, %edi
    loop  1b
    lgdt  PHYS(boot_gdt_desc)
    movl  %cr4, %eax
    orl   $0x620, %eax          /* PAE | OSFXSR | OSXMMEXCPT */
    movl  %eax, %cr4
    movl  $PHYS(boot_pml4), %eax
    movl  %eax, %cr3
    movl  $MSR_EFER, %ecx
    rdmsr
    orl   $0x901, %eax          /* SCE | LME | NXE */
    wrmsr
    movl  %cr0, %eax
    orl   $0x80050023, %eax     /* PG | AM | WP | NE | MP | PE */
    movl  %eax, %cr0
    ljmp  $0x10, $PHYS(pvh_long)

    .code64
pvh_long:
    movl  $0x18, %eax
    movl  %eax, %ds
    movl  %eax, %es
    movl  %eax, %ss
    movl  %eax, %fs
    movl  %eax, %gs
    movl  %ebx, %r12d           /* start info */
    xorl  %r13d, %r13d          /* boot flags */
    movq  $PHYS(early_stack_top), %rsp
    /*
     * Is this kvm-pvm? Only a KVM signature makes it possible; then read the
     * PVM signature MSR with a #GP fixup, since elsewhere the MSR does not exist.
     */
    movl  $0x40000000, %eax
    cpuid
    cmpl  $0x4b4d564b, %ebx     /* "KVMK" */
    jne   2f
    cmpl  $0x564b4d56, %ecx     /* "VMKV" */
    jne   2f
    /* IDT vector 13 -> pvh_gp_fixup (kernel CS 0x10, interrupt gate) */
    movq  $PHYS(early_idt), %rdi
    movq  $PHYS(pvh_gp_fixup), %rax
    movw  %ax, 13*16(%rdi)
    movw  $0x10, 13*16+2(%rdi)
    movw  $0x8e00, 13*16+4(%rdi)
    shrq  $16, %rax
    movw  %ax, 13*16+6(%rdi)
    lidt  PHYS(early_idt_desc)
    movl  $MSR_PVM_SIGNATURE, %ecx
    rdmsr                       /* #GP -> EAX = 0 */
    cmpl  $PVM_SIGNATURE, %eax
    jne   2f
    movl  $MSR_PVM_SWITCH, %ecx
    movl  $(PHYS(kiln_vif) + PVM_SWITCH_FLAGS), %eax
    xorl  %edx, %edx
    wrmsr
    movl  $BOOT_FLAG_PVM, %r13d
2:  /* Zero .bss: other PVH loaders need not. */
    movq  $PHYS(__bss_start), %rdi
    movq  $PHYS(__bss_end), %rcx
    subq  %rdi, %rcx
    shrq  $3, %rcx
    xorl  %eax, %eax
    rep stosq
    movq  %r12, %rdi
    movq  %r13, %rsi
    xorl  %edx, %edx            /* no monitor-built tables */
    movabsq $kiln_boot64, %rax
    jmp   *%rax

pvh_gp_fixup:                   /* skip the 2-byte rdmsr, report "absent" */
    addq  $8, %rsp              /* error code */
    addq  $2, (%rsp)
    xorl  %eax, %eax
    xorl  %edx, %edx
    iretq

/* ---- common 64-bit path, at the kernel's virtual address ---- */
    .text
    .globl kiln_boot64
kiln_boot64:
    leaq  kiln_boot_stack_top(%rip), %rsp
    xorl  %ebp, %ebp
    call  kiln_main             /* kiln_main(start_info_pa, flags, tables_end): never returns */
    ud2

/* ---- boot data: GDT for the PVH path, page tables, early IDT ---- */
    .section .boot.data, "aw"
    .p2align 4
boot_gdt:
    .quad 0
    .quad 0x00cf9b000000ffff    /* 0x08 code32 */
    .quad 0x00af9b000000ffff    /* 0x10 kernel code64 */
    .quad 0x00cf93000000ffff    /* 0x18 kernel data */
boot_gdt_end:
boot_gdt_desc:
    .word boot_gdt_end - boot_gdt - 1
    .quad PHYS(boot_gdt)
    .p2align 4
early_idt_desc:
    .word 256*16 - 1
    .quad PHYS(early_idt)

    /*
     * PVH boot page tables, filled in by kiln_pvh_entry (kept out of the
     * image: a PVH loader zero-fills this like .bss). The PML4 sits at an
     * 8 KiB boundary with its copy in the next page (kvm-pvm's KPTI
     * convention); U/S=1 at every level. [0, 1 GiB) identity with 2 MiB
     * pages, and again at KVMA: enough for the kernel, the start info and
     * the modules of any PVH loader until the kernel's own tables.
     */
    .section .boot.tables, "aw", @nobits
    .p2align 13
boot_pml4:
    .skip 4096
boot_pml4_user:
    .skip 4096
boot_pdpt_low:
    .skip 4096
boot_pdpt_high:
    .skip 4096
boot_pd:
    .skip 4096
boot_tables_end:

    .section .boot.bss, "aw", @nobits
    .p2align 12
early_idt:
    .skip 4096
early_stack:
    .skip 4096
early_stack_top:

/*
 * The boot CPU's kernel stack, with a guard page below it that the
 * kernel's page tables leave unmapped: an overflow faults (and the #DF
 * handler's own stack prints the report) instead of corrupting .bss.
 */
    .bss
    .p2align 12
    .globl kiln_boot_stack_guard, kiln_boot_stack_top
kiln_boot_stack_guard:
    .skip 4096
    .skip 32768                 /* also the kernel stack of every syscall and trap */
kiln_boot_stack_top:
