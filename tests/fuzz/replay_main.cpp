// Replays saved inputs through a fuzz target without libFuzzer, so the seed
// corpus (and every crash a fuzzer ever found) runs in `make test` with the
// ordinary g++ build:
//   elf_fuzz_replay tests/fuzz/corpus/elf [more dirs or files...]
// Each file is read into a heap buffer of exactly its size, so that under ASan
// a read one byte past the input is caught, as it would be under libFuzzer.
// Exits non-zero when no input was found (a wrong path must not pass).
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

namespace {

bool read_file(const std::filesystem::path& path, std::vector<uint8_t>* out) {
    std::ifstream in(path, std::ios::binary);
    if (!in) return false;
    out->assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    return !in.bad();
}

}  // namespace

int main(int argc, char** argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: %s <input file or directory>...\n", argv[0]);
        return 2;
    }
    std::vector<std::filesystem::path> inputs;
    for (int i = 1; i < argc; ++i) {
        std::error_code ec;
        std::filesystem::path arg(argv[i]);
        if (std::filesystem::is_directory(arg, ec)) {
            for (const auto& entry : std::filesystem::recursive_directory_iterator(arg, ec)) {
                if (entry.is_regular_file()) inputs.push_back(entry.path());
            }
        } else if (std::filesystem::is_regular_file(arg, ec)) {
            inputs.push_back(arg);
        } else {
            fprintf(stderr, "%s: no such file or directory\n", argv[i]);
            return 2;
        }
    }
    if (inputs.empty()) {
        fprintf(stderr, "no inputs found\n");
        return 2;
    }
    std::sort(inputs.begin(), inputs.end());  // the same order on every run

    std::vector<uint8_t> bytes;
    for (const auto& path : inputs) {
        if (!read_file(path, &bytes)) {
            fprintf(stderr, "%s: cannot read\n", path.c_str());
            return 2;
        }
        // An exact-size copy: ASan reports any access past the input's end.
        uint8_t* copy = static_cast<uint8_t*>(malloc(bytes.empty() ? 1 : bytes.size()));
        if (copy == nullptr) return 2;
        if (!bytes.empty()) memcpy(copy, bytes.data(), bytes.size());
        printf("replay %s (%zu bytes)\n", path.c_str(), bytes.size());
        fflush(stdout);  // the last name printed is the input that crashed
        LLVMFuzzerTestOneInput(copy, bytes.size());
        free(copy);
    }
    printf("%zu inputs replayed\n", inputs.size());
    return 0;
}
