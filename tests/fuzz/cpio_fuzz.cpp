// Fuzz target for lib/kiln/cpio.h: the newc reader the kernel runs over
// every initrd module (and kiln's own image packer output). The input is the
// whole module. Every entry's name and data must lie inside the input, in
// order and without overlap, names must be NUL-free and the reader's offset
// must only grow and stay in bounds; a concatenated archive after the
// trailer is read the way kernel/fs/initrd does.
#include <stddef.h>
#include <stdint.h>

#include "fuzz_check.h"
#include "kiln/cpio.h"

using namespace kiln;
using kiln::fuzz::touch;
using kiln::fuzz::within;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    Bytes image(data, size);
    size_t off = cpio::skip_padding(image, 0);
    for (int archive = 0; archive < 64 && off < size; archive++) {
        Bytes a = image.subspan(off);
        cpio::Reader r(a);
        cpio::Entry e;
        const uint8_t* last_end = a.data();
        size_t prev_offset = 0;
        for (;;) {
            auto n = r.next(&e);
            FUZZ_CHECK(r.offset() >= prev_offset && r.offset() <= a.size());
            prev_offset = r.offset();
            if (!n.ok() || !*n) break;
            FUZZ_CHECK(e.name.size() > 0);
            FUZZ_CHECK(within(e.name.data(), e.name.size(), a.data(), a.size()));
            FUZZ_CHECK(within(e.data.data(), e.data.size(), a.data(), a.size()));
            FUZZ_CHECK(reinterpret_cast<const uint8_t*>(e.name.data()) >= last_end + cpio::kHeaderSize);
            FUZZ_CHECK(e.data.size() == 0 || e.data.data() > reinterpret_cast<const uint8_t*>(e.name.data()));
            for (char c : e.name) FUZZ_CHECK(c != '\0');
            touch(e.name.data(), e.name.size());
            touch(e.data.data(), e.data.size());
            last_end = e.data.size() ? e.data.data() + e.data.size()
                                     : reinterpret_cast<const uint8_t*>(e.name.data()) + e.name.size();
        }
        // After the end or an error the reader keeps its answer.
        auto again = r.next(&e);
        FUZZ_CHECK(!again.ok() || !*again);
        if (r.offset() == 0) break;
        off = cpio::skip_padding(image, off + r.offset());
    }
    return 0;
}
