// ELF loading (gABI "Program Loading"; System V x86-64 psABI §3.4 for the
// initial process state; Linux's fs/binfmt_elf.c for the conventions that
// libcs rely on: load bias, brk, AT_PHDR, AT_BASE). Segments are private
// file mappings; only the page that straddles the end of a segment's file
// bytes is copied, because mm fills pages with the file's bytes up to the
// end of the *file*, and what follows p_filesz in that page must read as
// zero (.bss).
#include "loader/loader.h"

#include <linux/auxvec.h>
#include <linux/mman.h>

#include "arch/x86_64/cpu.h"
#include "fs/inode.h"
#include "fs/vfs.h"
#include "kiln/elf.h"
#include "klog.h"
#include "linux/user.h"
#include "loader/stack.h"
#include "mm/heap.h"
#include "mm/vm.h"
#include "sched/process.h"
#include "dev/random.h"

namespace kiln::loader {
namespace {

constexpr uint64_t kPage = 4096;
// Headers further than this into the file are not worth supporting.
constexpr uint64_t kMaxHeaderBytes = 64 * 1024;
constexpr uint64_t kMaxInterpPath = 4096;

uint64_t page_down(uint64_t v) { return v & ~(kPage - 1); }
uint64_t page_up(uint64_t v) { return (v + kPage - 1) & ~(kPage - 1); }

// A heap buffer that frees itself.
class Buffer {
public:
    ~Buffer() { mm::heap_free(p_); }
    bool allocate(size_t n) {
        p_ = static_cast<uint8_t*>(mm::heap_alloc(n ? n : 1));
        n_ = n;
        return p_ != nullptr;
    }
    uint8_t* data() const { return p_; }
    size_t size() const { return n_; }

private:
    uint8_t* p_ = nullptr;
    size_t n_ = 0;
};

class InodeRef {
public:
    explicit InodeRef(fs::Inode* i) : i_(i) {}
    ~InodeRef() {
        if (i_) i_->release();
    }
    fs::Inode* get() const { return i_; }

private:
    fs::Inode* i_;
};

Result<void> read_exact(fs::Inode* file, uint64_t off, void* buf, size_t n) {
    size_t got = TRY(file->read_at(off, buf, n));
    if (got != n) return Error(Errno::kENOEXEC);
    return {};
}

Errno bad_elf(const char* path, const char* why) {
    klog::error("loader: %s: %s", path, why);
    return Errno::kENOEXEC;
}

// One ELF file opened for loading: its header bytes and the parsed view.
struct Image {
    const char* path;
    fs::Inode* file;
    Buffer head;
    elf::ElfFile elf;
    uint64_t lo = 0, hi = 0;   // page-aligned extent of its PT_LOADs (vaddrs)
    uint64_t align = kPage;    // the largest p_align, at least a page
};

Result<void> open_image(const char* path, fs::Inode* file, Image* img) {
    img->path = path;
    img->file = file;
    if (file->type() != fs::InodeType::kRegular) {
        klog::error("loader: %s: not a regular file", path);
        return Error(Errno::kEACCES);
    }
    const uint64_t size = file->size();
    uint8_t ehdr[elf::kEhdrSize];
    if (size < sizeof(ehdr) || !read_exact(file, 0, ehdr, sizeof(ehdr)).ok()) {
        return Error(bad_elf(path, "shorter than an ELF header"));
    }
    // e_phoff (8 bytes at 32) and e_phnum (2 bytes at 56), little-endian.
    uint64_t phoff = 0;
    for (int i = 7; i >= 0; --i) phoff = (phoff << 8) | ehdr[32 + i];
    uint64_t phnum = ehdr[56] | (ehdr[57] << 8);
    if (phoff > kMaxHeaderBytes || phnum * elf::kPhdrSize > kMaxHeaderBytes - phoff) {
        return Error(bad_elf(path, "program headers too far into the file"));
    }
    uint64_t want = phoff + phnum * elf::kPhdrSize;
    if (want < sizeof(ehdr)) want = sizeof(ehdr);
    if (want > size) return Error(bad_elf(path, "program headers past the end of the file"));
    if (!img->head.allocate(want)) return Error(Errno::kENOMEM);
    TRY(read_exact(file, 0, img->head.data(), want));
    auto parsed = elf::ElfFile::parse_headers(Bytes(img->head.data(), want), size);
    if (!parsed.ok()) return Error(bad_elf(path, "not an x86-64 ELF executable or shared object"));
    img->elf = parsed.value();

    bool any = false;
    for (size_t i = 0; i < img->elf.phdr_count(); ++i) {
        elf::ProgramHeader ph = img->elf.phdr(i);
        if (ph.type != elf::kPtLoad) continue;
        if (ph.align > 1 && (ph.align & (ph.align - 1))) {
            return Error(bad_elf(path, "PT_LOAD alignment is not a power of two"));
        }
        if ((ph.vaddr - ph.offset) % kPage != 0) {
            return Error(bad_elf(path, "PT_LOAD offset and address differ modulo the page size"));
        }
        if (ph.memsz == 0) continue;
        if (ph.vaddr + ph.memsz > sys::kUserTop) {
            return Error(bad_elf(path, "PT_LOAD outside the user address space"));
        }
        uint64_t lo = page_down(ph.vaddr), hi = page_up(ph.vaddr + ph.memsz);
        if (any && lo < img->lo) return Error(bad_elf(path, "PT_LOAD segments out of order"));
        if (!any) img->lo = lo;
        if (hi > img->hi) img->hi = hi;
        if (ph.align > img->align) img->align = ph.align;
        any = true;
    }
    if (!any) return Error(bad_elf(path, "no PT_LOAD segment"));
    return {};
}

int prot_of(uint32_t flags) {
    int prot = 0;
    if (flags & elf::kPfR) prot |= mm::kProtRead;
    if (flags & elf::kPfW) prot |= mm::kProtWrite;
    if (flags & elf::kPfX) prot |= mm::kProtExec;
    return prot;
}

// Maps one PT_LOAD at bias + p_vaddr: whole file pages as a private file
// mapping, the page holding the end of p_filesz as anonymous memory with
// the file's bytes copied in, the rest (.bss) anonymous.
Result<void> map_segment(mm::UserAddressSpace* vm, const Image& img, const elf::ProgramHeader& ph,
                         uint64_t bias) {
    const int prot = prot_of(ph.flags);
    const uint64_t start = bias + ph.vaddr;
    const uint64_t file_end = start + ph.filesz;
    const uint64_t mem_end = start + ph.memsz;
    const uint64_t map_start = page_down(start);
    const uint64_t file_off = page_down(ph.offset);
    constexpr int kFixed = MAP_PRIVATE | MAP_FIXED;
    constexpr int kAnon = MAP_PRIVATE | MAP_FIXED | MAP_ANONYMOUS;

    // Whole pages of file bytes. A segment whose file part ends mid-page and
    // has no .bss keeps the file's bytes after p_filesz, as on Linux.
    const bool partial_tail = (file_end % kPage) != 0 && mem_end > file_end;
    const uint64_t file_pages_end = partial_tail ? page_down(file_end) : page_up(file_end);
    if (ph.filesz > 0 && file_pages_end > map_start) {
        TRY(vm->mmap(map_start, file_pages_end - map_start, prot, kFixed, img.file, file_off));
    }
    uint64_t anon_start = ph.filesz > 0 ? file_pages_end : map_start;
    if (partial_tail) {
        // The straddling page: anonymous (zeroes), file bytes written in.
        const uint64_t tail = page_down(file_end);
        TRY(vm->mmap(tail, kPage, mm::kProtRead | mm::kProtWrite, kAnon, nullptr, 0));
        const uint64_t from = tail > start ? tail : start;  // segment may start mid-page
        const uint64_t n = file_end - from;
        Buffer buf;
        if (!buf.allocate(n)) return Error(Errno::kENOMEM);
        TRY(read_exact(img.file, ph.offset + (from - start), buf.data(), n));
        TRY(sys::copy_to_user(from, buf.data(), n));
        if (prot != (mm::kProtRead | mm::kProtWrite)) TRY(vm->mprotect(tail, kPage, prot));
        anon_start = tail + kPage;
    }
    if (page_up(mem_end) > anon_start) {
        TRY(vm->mmap(anon_start, page_up(mem_end) - anon_start, prot, kAnon, nullptr, 0));
    }
    return {};
}

struct Loaded {
    uint64_t bias;
    uint64_t entry;
    uint64_t phdr_addr;  // where the program headers are in memory (AT_PHDR)
    uint64_t end;        // page-aligned end of the highest segment
};

Result<Loaded> map_image(mm::UserAddressSpace* vm, const Image& img, uint64_t bias) {
    const elf::ElfFile& e = img.elf;
    Loaded out{bias, bias + e.entry(), 0, bias + img.hi};
    if (out.entry < bias || out.entry >= sys::kUserTop) {
        return Error(bad_elf(img.path, "entry point outside the user address space"));
    }
    for (size_t i = 0; i < e.phdr_count(); ++i) {
        elf::ProgramHeader ph = e.phdr(i);
        if (ph.type == elf::kPtPhdr) out.phdr_addr = bias + ph.vaddr;
        if (ph.type != elf::kPtLoad || ph.memsz == 0) continue;
        TRY(map_segment(vm, img, ph, bias));
        // Without PT_PHDR: the headers are wherever the segment holding
        // e_phoff put them.
        const uint64_t phoff = e.phdr_offset();
        if (out.phdr_addr == 0 && phoff >= ph.offset && phoff - ph.offset < ph.filesz) {
            out.phdr_addr = bias + ph.vaddr + (phoff - ph.offset);
        }
    }
    return out;
}

// The bias that puts an image's lowest page at `base` rounded up to its
// alignment; ET_EXEC images are never moved.
uint64_t bias_for(const Image& img, uint64_t base) {
    if (img.elf.type() == elf::kTypeExec) return 0;
    uint64_t align = img.align > (2ull << 20) ? (2ull << 20) : img.align;
    return ((base + align - 1) & ~(align - 1)) - img.lo;
}

Result<void> check_range(const Image& img, uint64_t bias) {
    if (img.lo + bias < mm::UserAddressSpace::kMinAddr) {
        return Error(bad_elf(img.path, "loads below the lowest mappable address"));
    }
    if (img.hi + bias > kVvarBase) {
        return Error(bad_elf(img.path, "loads over the stack or the vDSO"));
    }
    return {};
}

size_t count(const char* const* v) {
    size_t n = 0;
    while (v && v[n]) ++n;
    return n;
}

uint64_t min_signal_stack() {
    // The signal frame: the XSAVE area for the features XCR0 enables
    // (CPUID 0xD.0:EBX) plus siginfo and ucontext, as Linux reports it.
    constexpr uint64_t kFrame = 1024;
    auto max_leaf = arch::cpu::cpuid(0).eax;
    if (max_leaf >= 0xd && (arch::cpu::cpuid(1).ecx & (1u << 27))) {
        uint64_t xsave = arch::cpu::cpuid(0xd, 0).ebx;
        if (xsave + kFrame > 2048) return xsave + kFrame;
    }
    return 2048;
}

}  // namespace

Result<UserEntry> exec(const char* path, const char* const* argv, const char* const* envp) {
    sched::Process& proc = sched::current();
    if (proc.vm == nullptr) proc.vm = TRY(mm::UserAddressSpace::create());
    mm::UserAddressSpace* vm = proc.vm;

    InodeRef file(TRY(fs::lookup_path(path)));
    Image prog;
    TRY(open_image(path, file.get(), &prog));

    // PT_INTERP names the dynamic loader; PT_GNU_STACK asks for an
    // executable stack (never granted: W^X).
    Buffer interp_buf;
    if (!interp_buf.allocate(kMaxInterpPath)) return Error(Errno::kENOMEM);
    char* interp_path = reinterpret_cast<char*>(interp_buf.data());
    interp_path[0] = '\0';
    for (size_t i = 0; i < prog.elf.phdr_count(); ++i) {
        elf::ProgramHeader ph = prog.elf.phdr(i);
        if (ph.type == elf::kPtGnuStack && (ph.flags & elf::kPfX)) {
            klog::warn("loader: %s asks for an executable stack; it stays non-executable", path);
        }
        if (ph.type != elf::kPtInterp) continue;
        if (ph.filesz < 2 || ph.filesz > kMaxInterpPath) {
            return Error(bad_elf(path, "PT_INTERP path empty or too long"));
        }
        TRY(read_exact(file.get(), ph.offset, interp_path, ph.filesz));
        if (interp_path[ph.filesz - 1] != '\0') {
            return Error(bad_elf(path, "PT_INTERP path not NUL-terminated"));
        }
    }

    const uint64_t bias = bias_for(prog, kDynBase);
    TRY(check_range(prog, bias));
    Loaded main = TRY(map_image(vm, prog, bias));
    if (main.phdr_addr == 0) return Error(bad_elf(path, "program headers not in a loaded segment"));
    vm->set_brk_base(main.end);

    uint64_t rip = main.entry, interp_base = 0;
    if (interp_path[0] != '\0') {
        auto looked_up = fs::lookup_path(interp_path);
        if (!looked_up.ok()) {
            klog::error("loader: %s: interpreter %s: %s", path, interp_path,
                        errno_name(looked_up.error()));
            return Error(looked_up.error());
        }
        InodeRef interp_file(looked_up.value());
        Image interp;
        TRY(open_image(interp_path, interp_file.get(), &interp));
        for (size_t i = 0; i < interp.elf.phdr_count(); ++i) {
            if (interp.elf.phdr(i).type == elf::kPtInterp) {
                return Error(bad_elf(interp_path, "an interpreter with an interpreter"));
            }
        }
        uint64_t ibias = 0;
        if (interp.elf.type() == elf::kTypeDyn) {
            const uint64_t span = interp.hi - interp.lo;
            if (span > kInterpTop - (1ull << 32)) return Error(bad_elf(interp_path, "too large"));
            uint64_t align = interp.align > (2ull << 20) ? (2ull << 20) : interp.align;
            ibias = ((kInterpTop - span) & ~(align - 1)) - interp.lo;
        }
        TRY(check_range(interp, ibias));
        if (interp.lo + ibias < main.end && main.bias + prog.lo < interp.hi + ibias) {
            return Error(bad_elf(interp_path, "overlaps the program"));
        }
        Loaded ld = TRY(map_image(vm, interp, ibias));
        rip = ld.entry;
        interp_base = ld.bias + interp.lo;
    }

    // The stack: 8 MiB below the top, grown on demand, guard gap below.
    constexpr int kStackFlags =
        MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED | MAP_GROWSDOWN | MAP_NORESERVE;
    TRY(vm->mmap(kStackTop - kStackSize, kStackSize, mm::kProtRead | mm::kProtWrite, kStackFlags,
                 nullptr, 0));
    const uint64_t vdso = TRY(map_vdso());

    const AuxEntry aux[] = {
        {AT_SYSINFO_EHDR, vdso},
        {AT_MINSIGSTKSZ, min_signal_stack()},
        {AT_HWCAP, arch::cpu::cpuid(1).edx},
        {AT_PAGESZ, kPage},
        {AT_CLKTCK, 100},
        {AT_PHDR, main.phdr_addr},
        {AT_PHENT, elf::kPhdrSize},
        {AT_PHNUM, prog.elf.phdr_count()},
        {AT_BASE, interp_base},
        {AT_FLAGS, 0},
        {AT_ENTRY, main.entry},
        {AT_UID, proc.uid},
        {AT_EUID, proc.euid},
        {AT_GID, proc.gid},
        {AT_EGID, proc.egid},
        {AT_SECURE, 0},
        // FIXME: bit 1 (FSGSBASE) once arch enables CR4.FSGSBASE for apps.
        {AT_HWCAP2, 0},
    };
    StackSpec spec;
    spec.argv = argv;
    spec.argc = count(argv);
    spec.envp = envp;
    spec.envc = count(envp);
    spec.execfn = path;
    spec.platform = "x86_64";
    dev::random_bytes(spec.random, sizeof(spec.random));
    spec.aux = aux;
    spec.auxc = sizeof(aux) / sizeof(aux[0]);
    const size_t size = TRY(stack_size(spec));
    Buffer stack;
    if (!stack.allocate(size)) return Error(Errno::kENOMEM);
    StackLayout layout = TRY(layout_stack(spec, kStackTop, stack.data(), size));
    TRY(sys::copy_to_user(layout.rsp, stack.data() + (size - layout.used), layout.used));

    klog::info("loader: %s: entry 0x%lx%s%s, rsp 0x%lx", path, rip,
               interp_path[0] ? " via " : "", interp_path, layout.rsp);
    return UserEntry{rip, layout.rsp};
}

}  // namespace kiln::loader
