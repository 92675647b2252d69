/* Shared by the test guests (GNU as via the C preprocessor). */
#define PORT_EXIT 0xf4
#define COM1 0x3f8
#define KERNEL_VIRT_BASE 0xffffffff80000000
#define VIRTIO_BASE 0xd0000000

/* The 64-bit entry note: name "Kiln", type 1, desc = entry virtual address.
   The entry is given in the upper-half mapping (KERNEL_VIRT_BASE + physical),
   so every guest also checks that mapping; code is position-independent. */
#define KILN_ENTRY64(sym)                     \
    .pushsection .note.kiln, "a";             \
    .balign 4;                                \
    .long 5, 8, 1;                            \
    .asciz "Kiln";                            \
    .balign 4;                                \
    .quad sym + KERNEL_VIRT_BASE;             \
    .popsection

/* The Xen PVH note: name "Xen", type 18 (PHYS32_ENTRY), desc = u32 address. */
#define XEN_PVH_ENTRY(sym)                    \
    .pushsection .note.xen, "a";              \
    .balign 4;                                \
    .long 4, 4, 18;                           \
    .asciz "Xen";                             \
    .balign 4;                                \
    .long sym;                                \
    .popsection

/* Ends the VM with status n (32-bit OUT to the exit port). */
#define EXIT(n)                               \
    movl $(n), %eax;                          \
    outl %eax, $PORT_EXIT;                    \
    hlt
