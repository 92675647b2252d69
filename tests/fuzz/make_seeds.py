#!/usr/bin/env python3
"""Writes the hand-made seed corpus in tests/fuzz/corpus/ (committed; rerun
this after changing it: python3 tests/fuzz/make_seeds.py). Each seed is named
for what it tries. Inputs the fuzzers found are added to the corpus by hand
(named crash-*) and are not generated here."""
import os
import struct

HERE = os.path.dirname(os.path.abspath(__file__))


def write(target, name, data):
    d = os.path.join(HERE, "corpus", target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data if isinstance(data, bytes) else data.encode())


# ---- ELF64 (gABI): 64-byte header, 56-byte program headers, notes ----
PT_LOAD, PT_NOTE, PT_GNU_STACK = 1, 4, 0x6474E551


def ehdr(phoff, phnum, etype=2, phentsize=56, ehsize=64, entry=0x100000):
    ident = b"\x7fELF" + bytes([2, 1, 1]) + bytes(9)
    return ident + struct.pack("<HHIQQQIHHHHHH", etype, 62, 1, entry, phoff, 0, 0,
                               ehsize, phentsize, phnum, 64, 0, 0)


def phdr(ptype, offset, filesz, memsz=None, vaddr=0x100000, paddr=0x100000, align=4, flags=5):
    memsz = filesz if memsz is None else memsz
    return struct.pack("<IIQQQQQQ", ptype, flags, offset, vaddr, paddr, filesz, memsz, align)


def note(name, ntype, desc, align=4):
    n = name + b"\0" if name else b""
    pad = lambda b: b + bytes(-len(b) % align)
    return struct.pack("<III", len(n), len(desc), ntype) + pad(n) + pad(desc)


def elf(phdrs_for, body):
    """phdrs_for(base) -> list of phdr bytes, given where body starts."""
    n = len(phdrs_for(0))
    base = 64 + 56 * n
    return ehdr(64, n) + b"".join(phdrs_for(base)) + body


def elf_seeds():
    notes4 = (note(b"Xen", 18, struct.pack("<I", 0x100000)) +
              note(b"Kiln", 1, struct.pack("<Q", 0x100040)) +
              note(b"GNU", 3, b"\x01\x02\x03") + note(b"", 7, b""))
    notes8 = note(b"Kiln", 1, struct.pack("<Q", 0x100080), align=8)
    code = b"\xf4" * 32
    body = notes4 + notes8 + code
    o4, o8, oc = 0, len(notes4), len(notes4) + len(notes8)
    good = elf(lambda b: [phdr(PT_LOAD, b + oc, len(code), 0x400),
                          phdr(PT_NOTE, b + o4, len(notes4)),
                          phdr(PT_NOTE, b + o8, len(notes8), align=8),
                          phdr(PT_GNU_STACK, 0, 0, flags=6)], body)
    write("elf", "valid-notes", good)
    write("elf", "empty", b"")
    write("elf", "truncated-ehdr", good[:40])
    write("elf", "truncated-phdrs", good[:64 + 56 + 20])
    write("elf", "no-phdrs", ehdr(0, 0, etype=3))
    write("elf", "phoff-wraps", ehdr(2**64 - 8, 1) + phdr(PT_LOAD, 0, 0))
    write("elf", "phnum-xnum", ehdr(64, 0xFFFF) + phdr(PT_LOAD, 0, 0))
    write("elf", "phentsize-32", ehdr(64, 1, phentsize=32) + phdr(PT_LOAD, 0, 0))
    write("elf", "offset-filesz-wraps", ehdr(64, 1) + phdr(PT_NOTE, 2**64 - 1, 2))
    write("elf", "filesz-past-end", ehdr(64, 1) + phdr(PT_LOAD, 64, 4096, 8192))
    write("elf", "vaddr-memsz-wraps", ehdr(64, 1) + phdr(PT_LOAD, 0, 0, 16, vaddr=2**64 - 8))
    write("elf", "paddr-memsz-wraps", ehdr(64, 1) + phdr(PT_LOAD, 0, 0, 16, paddr=2**64 - 8))
    write("elf", "load-filesz-gt-memsz", ehdr(64, 1) + phdr(PT_LOAD, 0, 64, 32))
    # Notes whose sizes run past their segment, or round up past 2^32.
    for name, bad in [("note-namesz-huge", struct.pack("<III", 0xFFFFFFFF, 0, 18) + b"Xen\0"),
                      ("note-descsz-past", struct.pack("<III", 4, 0xFFFFFFF0, 18) + b"Xen\0"),
                      ("note-header-cut", struct.pack("<II", 4, 4))]:
        write("elf", name, elf(lambda b: [phdr(PT_NOTE, b, len(bad))], bad))
    # The last note's desc padding cut off at the end of the segment: valid.
    cut = note(b"Xen", 18, b"\x01\x02\x03\x04\x05")[:-3]
    write("elf", "note-padding-cut", elf(lambda b: [phdr(PT_NOTE, b, len(cut))], cut))
    # A malformed note segment before a good one: find_note fails.
    bad = struct.pack("<III", 8, 0, 1)
    write("elf", "bad-then-good-notes",
          elf(lambda b: [phdr(PT_NOTE, b, len(bad)), phdr(PT_NOTE, b + len(bad), len(notes4))],
              bad + notes4))


# ---- kernel command line ----
def cmdline_seeds():
    write("cmdline", "typical",
          "console=ttyS0 virtio_mmio.device=4K@0xd0000000:5 "
          "virtio_mmio.device=0x200@0xd0001000:6:1 quiet -- /app --flag=1")
    write("cmdline", "quoting",
          '"key=a b" key2="c d" "bare" " "" = =x "" "=" a="" b=" x="unterminated y')
    write("cmdline", "device-overflow",
          "virtio_mmio.device=16E@0:1 virtio_mmio.device=1@0xffffffffffffffff:1 "
          "virtio_mmio.device=2@0xffffffffffffffff:1 "
          "virtio_mmio.device=99999999999999999999@0:1 virtio_mmio.device=1@1:4294967296 "
          "virtio_mmio.device=0@0x1000:5 virtio_mmio.device=16e@0x10:1:0xffffffff")
    write("cmdline", "device-malformed",
          "virtio_mmio.device= virtio_mmio.device=@: virtio_mmio.device=1@2 "
          "virtio_mmio.device=1@2:3:4:5 virtio_mmio.device=0x@1:2 virtio_mmio.device=1kk@2:3 "
          'virtio_mmio.device="4K@0x1000:5" virtio_mmio.device')
    write("cmdline", "dashes", "virtio-mmio.device=4k@0x1000:5:4294967295 mem=1g "
          "a_b-c=1 debug=0 trace=YES --")
    write("cmdline", "size-overflow",
          "mem=16E a=15E b=0x10000000000000000 c=17179869184G d=17179869183g e=1P f=0xfffK")
    write("cmdline", "number-max", "18446744073709551615")
    write("cmdline", "number-max-plus-one", "18446744073709551616")
    write("cmdline", "number-hex-e", "0x1E")
    write("cmdline", "number-size-e", "15e")
    write("cmdline", "embedded-nul", b"a=1 virtio_mmio.device=1@2:3\0b=2 c")
    write("cmdline", "whitespace", "\t a=1\n\rb \t\"c= d\"\n")
    write("cmdline", "empty", b"")


# ---- split virtqueue (layout in virtqueue_fuzz.cpp) ----
F_NEXT, F_WRITE, F_INDIRECT = 1, 2, 4
HIGH = 0x100000000  # the RAM range above the MMIO hole (image offset 32 KiB)


def vq(size_sel, desc, avail, used, image, ops=(), event_idx=0, raw_size=0):
    hdr = struct.pack("<BBHQQQB", size_sel, event_idx, raw_size, desc, avail, used, len(ops))
    return hdr + b"".join(struct.pack("<BHH", *op) for op in ops) + image.rstrip(b"\0")


class Image:
    def __init__(self):
        self.b = bytearray(64 * 1024)

    def put(self, gpa, data):
        off = gpa if gpa < HIGH else gpa - HIGH + 32 * 1024
        self.b[off:off + len(data)] = data
        return self

    def desc(self, table, i, addr, length, flags=0, nxt=0):
        return self.put(table + 16 * i, struct.pack("<QIHH", addr, length, flags, nxt))

    def avail(self, ring, idx, heads):
        return self.put(ring, struct.pack("<HH", 0, idx) + struct.pack(f"<{len(heads)}H", *heads))

    def bytes(self):
        return bytes(self.b)


def vq_seeds():
    # Desc table, avail ring, used ring for queues of up to 8 entries; buffers
    # from 0x400 (addresses are kept low so that the seeds stay small).
    D, A, U = 0x0, 0x100, 0x200
    # Two chains: readable+writable, then a single readable one.
    im = Image().avail(A, 2, [0, 3])
    im.desc(D, 0, 0x400, 16, F_NEXT, 1).desc(D, 1, 0x500, 32, F_WRITE)
    im.desc(D, 3, 0x600, 8).put(0x400, b"hello, virtqueue")
    write("virtqueue", "two-chains", vq(3, D, A, U, im.bytes()))
    write("virtqueue", "two-chains-event-idx", vq(3, D, A, U, im.bytes(), event_idx=1))
    # A loop in `next`: 0 -> 1 -> 0.
    im = Image().avail(A, 1, [0]).desc(D, 0, 0x400, 4, F_NEXT, 1).desc(D, 1, 0x400, 4, F_NEXT, 0)
    write("virtqueue", "next-loop", vq(3, D, A, U, im.bytes()))
    # A self-loop in a queue of 1.
    im = Image().avail(A, 1, [0]).desc(D, 0, 0x400, 4, F_NEXT, 0)
    write("virtqueue", "self-loop-size-1", vq(0, D, A, U, im.bytes()))
    # Buffers at the edges of RAM: straddling the hole, wrapping 2^64, past
    # the end of the high range, and good ones at the end of each range.
    cases = [(0xBFFFFFF0, 0x20, 0), (2**64 - 1, 2, 0), (HIGH + 0x7FF0, 0x20, 0),
             (0xBFFFFFF0, 0x10, 0), (HIGH + 0x7FF0, 0x10, F_WRITE), (HIGH, 0, 0),
             (0, 0xFFFFFFFF, 0)]
    im = Image().avail(A, len(cases), list(range(len(cases))))
    for i, (addr, length, flags) in enumerate(cases):
        im.desc(D, i, addr, length, flags)
    write("virtqueue", "edge-addresses", vq(3, D, A, U, im.bytes()))
    # The longest legal chain (256 descriptors), then one that is one too long
    # because its last descriptor points back to the head.
    D, A, U = 0x0, 0x1000, 0x1400  # room for 256 entries
    im = Image().avail(A, 2, [0, 0])
    for i in range(256):
        im.desc(D, i, 0x1c00 + i, 1, F_NEXT if i < 255 else 0, i + 1 if i < 255 else 0)
    write("virtqueue", "long-chain-256", vq(8, D, A, U, im.bytes()))
    im.desc(D, 255, 0x1c00, 1, F_NEXT, 0)
    write("virtqueue", "long-chain-loop-256", vq(8, D, A, U, im.bytes()))
    D, A, U = 0x0, 0x100, 0x200
    # Malformed rings: index too far ahead, head and next out of range,
    # indirect descriptors, readable after writable.
    im = Image().avail(A, 9, [0] * 8).desc(D, 0, 0x400, 1)
    write("virtqueue", "avail-idx-too-far", vq(3, D, A, U, im.bytes()))
    im = Image().avail(A, 1, [8]).desc(D, 0, 0x400, 1)
    write("virtqueue", "head-out-of-range", vq(3, D, A, U, im.bytes()))
    im = Image().avail(A, 1, [0]).desc(D, 0, 0x400, 1, F_NEXT, 200)
    write("virtqueue", "next-out-of-range", vq(3, D, A, U, im.bytes()))
    im = Image().avail(A, 1, [0]).desc(D, 0, 0x400, 16, F_INDIRECT)
    write("virtqueue", "indirect", vq(3, D, A, U, im.bytes()))
    im = Image().avail(A, 1, [0]).desc(D, 0, 0x400, 1, F_WRITE | F_NEXT, 1).desc(D, 1, 0x401, 1)
    write("virtqueue", "readable-after-writable", vq(3, D, A, U, im.bytes()))
    # Ring placement activate() must refuse, and rings in the high range.
    im = Image().avail(A, 1, [0]).desc(D, 0, 0x400, 1)
    write("virtqueue", "bad-size-3", vq(0x80, D, A, U, im.bytes(), raw_size=3))
    write("virtqueue", "bad-size-512", vq(0x80, D, A, U, im.bytes(), raw_size=512))
    write("virtqueue", "misaligned-desc", vq(3, D + 8, A, U, im.bytes()))
    write("virtqueue", "ring-past-end", vq(8, D, HIGH + 0x7F00, U, im.bytes()))
    write("virtqueue", "ring-over-hole", vq(3, 0xBFFFFFC0, A, U, im.bytes()))
    im = Image().avail(HIGH + 0x100, 1, [2]).desc(HIGH, 2, 0x400, 5, F_WRITE)
    write("virtqueue", "rings-high", vq(2, HIGH, HIGH + 0x100, HIGH + 0x200, im.bytes()))
    # A racing guest: pop, publish a new chain by poking avail idx, pop,
    # notify, reset and activate again, pop. Writable buffers cover the used
    # ring and the avail index, as a hostile guest may arrange.
    im = Image().avail(A, 1, [0, 1]).desc(D, 0, 0x400, 8).desc(D, 1, A, 4, F_WRITE)
    im.desc(D, 2, U, 0x20, F_WRITE)
    ops = [(0, 0, 0), (1, A + 2, 2), (1, A + 6, 2), (0, 0, 0), (2, 0, 0), (0, 0, 0),
           (3, 0, 0), (0, 0, 0), (2, 0, 0)]
    write("virtqueue", "racing-guest", vq(2, D, A, U, im.bytes(), ops=ops, event_idx=1))


# ---- kernel/net receive path: scripts of frames, time and app actions ----
# (layout at the top of net_fuzz.cpp)
STACK_MAC = bytes([0x52, 0x54, 0, 0, 0, 2])
PEER_MAC = bytes([2] * 6)


def rec(op, body):
    return struct.pack("<BH", op, len(body)) + body


def csum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return (~s) & 0xFFFF


def tcp(sport, dport, seq, ack, flags, opts=b"", data=b"", wnd=65535):
    off = (20 + len(opts)) // 4
    return struct.pack("!HHIIBBHHH", sport, dport, seq, ack, off << 4, flags, wnd, 0, 0) + opts + data


def ipv4_frame(proto, l4, src=b"\x0a\0\0\x01", dst=b"\x0a\0\0\x02", frag=0, ident=1):
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(l4), ident, frag, 64, proto, 0, src, dst)
    ip = ip[:10] + struct.pack("!H", csum(ip)) + ip[12:]
    return STACK_MAC + PEER_MAC + b"\x08\x00" + ip + l4


def net_seeds():
    SYN, ACK, FIN, RST, PSH = 2, 16, 1, 4, 8
    mss_ws = bytes([2, 4, 5, 0xB4, 1, 3, 3, 7])
    # A whole connection to port 81: SYN, the ACK of the SYN-ACK (0xffffffff
    # numbers are filled in by the target), the app accepts, data, the app
    # answers, more data out of order, FIN, the app closes, time passes.
    M = 0xFFFFFFFF
    s = rec(0x11, bytes([6]) + tcp(40000, 81, 1000, 0, SYN, mss_ws))
    s += rec(0x11, bytes([6]) + tcp(40000, 81, M, M, ACK))
    s += rec(3, b"\0" * 3)
    s += rec(0x11, bytes([6]) + tcp(40000, 81, M, M, ACK | PSH, data=b"GET / HTTP/1.0\r\n\r\n"))
    s += rec(2, b"\0" * 50)
    s += rec(3, b"\0" * 3)
    s += rec(0x11, bytes([6]) + tcp(40000, 81, M, M, ACK, data=b"more"))
    s += rec(0x11, bytes([6]) + tcp(40000, 81, M, M, ACK, wnd=0))
    s += rec(2, struct.pack("<H", 3000))
    s += rec(0x11, bytes([6]) + tcp(40000, 81, M, M, ACK | FIN))
    s += rec(0x83, b"\0" * 3)
    s += rec(0x11, bytes([6]) + tcp(40000, 81, M, M, ACK))
    s += rec(2, b"\0" * 300)
    write("net", "tcp-connection", s)
    write("net", "tcp-syn-closed-port", rec(0x11, bytes([6]) + tcp(1, 9, 5, 0, SYN)))
    write("net", "tcp-rst-and-bad-options",
          rec(0x11, bytes([6]) + tcp(1, 81, 5, 0, RST)) +
          rec(0x11, bytes([6]) + tcp(1, 81, 5, 0, SYN, bytes([2, 4, 0, 0, 3, 3, 200, 0]))) +
          rec(0x11, bytes([6]) + tcp(1, 81, 5, 0, SYN, bytes([8, 0, 0, 0]))) +
          rec(0x11, bytes([6]) + tcp(1, 81, 5, 0, SYN, bytes([2, 40, 0, 0]))))
    # ARP for our address, and a reply.
    arp = struct.pack("!HHBBH6s4s6s4s", 1, 0x0800, 6, 4, 1, PEER_MAC, b"\x0a\0\0\x01",
                      bytes(6), b"\x0a\0\0\x02")
    write("net", "arp-request", rec(0, b"\xff" * 6 + PEER_MAC + b"\x08\x06" + arp))
    echo = bytes([8, 0, 0, 0, 0, 1, 0, 1]) + b"ping"
    echo = echo[:2] + struct.pack("!H", csum(echo)) + echo[4:]
    write("net", "icmp-echo", rec(1, bytes([1]) + echo) + rec(2, b"\0" * 10))
    udp = struct.pack("!HHHH", 5353, 53, 8 + 5, 0) + b"query"
    write("net", "udp-to-bound-port", rec(0x11, bytes([17]) + udp) + rec(3, b"\0") +
          rec(0x11, bytes([17]) + struct.pack("!HHHH", 5353, 54, 8, 0)))
    # Fragments out of order, overlapping, and a lone one that times out.
    big = struct.pack("!HHHH", 5353, 53, 8 + 100, 0) + bytes(range(100))
    write("net", "ipv4-fragments",
          rec(0x10, ipv4_frame(17, big[56:], frag=7, ident=9)) +
          rec(0x10, ipv4_frame(17, big[:64], frag=0x2000, ident=9)) +
          rec(0x10, ipv4_frame(17, big[:16], frag=0x2000, ident=10)) +
          rec(2, struct.pack("<H", 40000)))
    # IPv6: a neighbour solicitation for fd00::2 and an echo request.
    src6 = bytes([0xfd] + [0] * 14 + [1])
    dst6 = bytes([0xfd] + [0] * 14 + [2])
    ns = bytes([135, 0, 0, 0, 0, 0, 0, 0]) + dst6 + bytes([1, 1]) + PEER_MAC
    ip6 = struct.pack("!IHBB", 0x60000000, len(ns), 58, 255) + src6 + \
        bytes([0xff, 2] + [0] * 9 + [1, 0xff, 0, 0, 2])
    write("net", "ipv6-ns", rec(0x10, b"\x33\x33\xff\0\0\x02" + PEER_MAC + b"\x86\xdd" + ip6 + ns))
    e6 = bytes([128, 0, 0, 0, 0, 1, 0, 1]) + b"ping6"
    ip6 = struct.pack("!IHBB", 0x60000000, len(e6), 58, 64) + src6 + dst6
    write("net", "ipv6-echo", rec(0x10, STACK_MAC + PEER_MAC + b"\x86\xdd" + ip6 + e6))
    t6 = tcp(40001, 80, 77, 0, SYN, mss_ws)
    ip6 = struct.pack("!IHBB", 0x60000000, len(t6), 6, 64) + src6 + dst6
    write("net", "ipv6-tcp-syn", rec(0x10, STACK_MAC + PEER_MAC + b"\x86\xdd" + ip6 + t6) +
          rec(2, b"\0" * 2) + rec(3, b"\0"))
    # IPv6 fragments: the second half first, then the first.
    u6 = struct.pack("!HHHH", 5353, 53, 8 + 40, 0) + bytes(range(40))
    frags = b""
    for off, more in ((24, 0), (0, 1)):
        piece = u6[off:off + 24] if more else u6[off:]
        fh = struct.pack("!BBHI", 17, 0, off | more, 0x1234)
        ip6 = struct.pack("!IHBB", 0x60000000, 8 + len(piece), 44, 64) + src6 + dst6
        frags += rec(0x10, STACK_MAC + PEER_MAC + b"\x86\xdd" + ip6 + fh + piece)
    write("net", "ipv6-fragments", frags + rec(3, b"\0") + rec(2, struct.pack("<H", 61000)))
    write("net", "empty", b"")
    write("net", "short-frames", rec(0, b"") + rec(0, b"\x01") + rec(0, STACK_MAC + PEER_MAC + b"\x08"))


# ---- kiln-vmm virtio-net (virtio_net_fuzz.cpp): header, ops, 1 MiB image ----
RXD, RXA, RXU, TXD, TXA, TXU = 0x1000, 0x2000, 0x3000, 0x4000, 0x5000, 0x6000
NET_MRG, NET_GUEST_CSUM, NET_CSUM, NET_EVENT_IDX = 1, 2, 4, 8
ARP = (bytes(12) + b"\xff" * 6 + b"\x52\x54\x00\x12\x34\x56\x08\x06" +
       bytes([0, 1, 8, 0, 6, 4, 0, 1]) + b"\x52\x54\x00\x12\x34\x56" + bytes([10, 0, 2, 15]) +
       bytes(6) + bytes([10, 0, 2, 2]))


def vnet(image, ops, flags=NET_MRG | NET_EVENT_IDX, rx_sel=3, tx_sel=3):
    hdr = struct.pack("<BBBB6I", flags, rx_sel, tx_sel, len(ops), RXD, RXA, RXU, TXD, TXA, TXU)
    return hdr + b"".join(struct.pack("<BBH", *op) for op in ops) + bytes(image).rstrip(b"\0")


def vnet_image():
    im = bytearray(0x40000)

    def put(gpa, data):
        im[gpa:gpa + len(data)] = data

    def desc(table, i, addr, length, flags=0, nxt=0):
        put(table + 16 * i, struct.pack("<QIHH", addr, length, flags, nxt))

    def avail(ring, idx, heads):
        put(ring, struct.pack("<HH", 0, idx) + struct.pack(f"<{len(heads)}H", *heads))
    return im, put, desc, avail


def virtio_net_seeds():
    TX, RX, PKT, GUESTW, RXN, RESET = 0, 1, 1, 2, 3, 4
    im, put, desc, avail = vnet_image()
    put(0x7000, ARP)
    desc(TXD, 0, 0x7000, len(ARP))
    avail(TXA, 1, [0])
    write("virtio_net", "tx-one-packet", vnet(im, [(TX, 0, 0)]))
    write("virtio_net", "tx-no-event-idx", vnet(im, [(TX, 0, 0), (TX, 0, 0)], flags=0))

    im, put, desc, avail = vnet_image()
    for i in range(8):
        desc(RXD, i, 0x8000 + 16 * i, 16, 2)
    avail(RXA, 8, list(range(8)))
    write("virtio_net", "rx-mergeable-16-byte-buffers", vnet(im, [(RXN, 0, 0), (PKT, 0, 100)]))
    write("virtio_net", "rx-no-mrg-small-buffers", vnet(im, [(PKT, 0, 100)], flags=0))
    write("virtio_net", "rx-too-big-for-the-ring", vnet(im, [(PKT, 0, 1500)]))

    im, put, desc, avail = vnet_image()
    desc(RXD, 0, 0x8000, 2048, 2)
    avail(RXA, 1, [0])
    write("virtio_net", "rx-one-buffer", vnet(im, [(PKT, 0, 60), (PKT, 1, 80), (RXN, 0, 0)],
                                              flags=NET_GUEST_CSUM))
    write("virtio_net", "rx-then-reset", vnet(im, [(PKT, 0, 60), (RESET, 0, 0), (PKT, 0, 60)]))

    im, put, desc, avail = vnet_image()
    desc(RXD, 0, 0x8000, 2048, 0)  # device-readable: not for receiveq
    avail(RXA, 1, [0])
    write("virtio_net", "rx-readable-buffer", vnet(im, [(PKT, 0, 60)]))

    im, put, desc, avail = vnet_image()
    put(0x7000, ARP)
    desc(TXD, 0, 0x7000, len(ARP), 1, 0)  # NEXT to itself
    avail(TXA, 1, [0])
    write("virtio_net", "tx-loop", vnet(im, [(TX, 0, 0)]))

    im, put, desc, avail = vnet_image()
    desc(TXD, 0, 0x7000, 12, 1, 1)
    desc(TXD, 1, 0x7100, 64, 2)  # device-writable in a transmit chain
    avail(TXA, 1, [0])
    write("virtio_net", "tx-writable-buffer", vnet(im, [(TX, 0, 0)]))

    im, put, desc, avail = vnet_image()
    desc(TXD, 0, 0xFFFF0, 0x100)  # runs past the end of RAM
    avail(TXA, 1, [0])
    write("virtio_net", "tx-past-ram", vnet(im, [(TX, 0, 0)]))

    im, put, desc, avail = vnet_image()
    desc(TXD, 0, 0x7000, 8)  # shorter than the header
    desc(TXD, 1, 0x0, 0xF0000)  # longer than any packet
    avail(TXA, 2, [1, 0])
    write("virtio_net", "tx-short-and-huge", vnet(im, [(TX, 0, 0)]))

    im, put, desc, avail = vnet_image()
    put(0x7000, ARP)
    for i in range(8):
        desc(TXD, i, 0x7000, len(ARP))
    avail(TXA, 8, list(range(8)))
    # The guest moves the avail index and a descriptor while the device works.
    ops = [(TX, 0, 0), (GUESTW, 0, TXA + 2), (TX, 0, 0), (GUESTW, 0x40, 0x4008), (TX, 0, 0)]
    write("virtio_net", "racing-guest", vnet(im, ops))
    write("virtio_net", "empty-rings", vnet(vnet_image()[0], []))

    # GSO: a coalesced TCPv4 packet from the TAP (the packet op takes its
    # bytes from the image at a * 64), taken or dropped by the features.
    NET_TSO4, NET_TSO6 = 16, 32
    im, put, desc, avail = vnet_image()
    for i in range(8):
        desc(RXD, i, 0x8000 + 2048 * i, 2048, 2)
    avail(RXA, 8, list(range(8)))
    put(0x3800, bytes([1, 1]) + struct.pack("<HHHH", 54, 1448, 34, 16) + bytes(2) + b"\x08\x00" * 200)
    write("virtio_net", "rx-gso-tcpv4-taken",
          vnet(im, [(PKT, 0xE0, 2000)], flags=NET_MRG | NET_GUEST_CSUM | NET_TSO4))
    write("virtio_net", "rx-gso-tcpv4-not-negotiated", vnet(im, [(PKT, 0xE0, 2000)]))
    im, put, desc, avail = vnet_image()
    put(0x7000, bytes([1, 4]) + struct.pack("<HHHH", 74, 1428, 54, 16) + bytes(2) + ARP[12:])
    desc(TXD, 0, 0x7000, len(ARP))
    avail(TXA, 1, [0])
    write("virtio_net", "tx-gso-tcpv6", vnet(im, [(TX, 0, 0)], flags=NET_CSUM | NET_TSO6))


if __name__ == "__main__":
    elf_seeds()
    cmdline_seeds()
    vq_seeds()
    net_seeds()
    virtio_net_seeds()
