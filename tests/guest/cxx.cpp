// C++ runtime: iostream, string, containers and algorithms, and exceptions
// thrown and caught across frames (the unwinder must work). Prints
// "cxx: ok".
#include <algorithm>
#include <functional>
#include <iostream>
#include <map>
#include <memory>
#include <numeric>
#include <sstream>
#include <stdexcept>
#include <string>
#include <unordered_map>
#include <vector>

namespace {

struct Custom {
    int code;
};

int depth = 0;
struct Guard {
    ~Guard() { --depth; }
};

int thrower(int n) {
    ++depth;
    Guard g;
    if (n == 0) throw std::runtime_error("bottom reached");
    return thrower(n - 1) + 1;
}

#define CHECK(cond, what)                                 \
    do {                                                  \
        if (!(cond)) {                                    \
            std::cout << "FAIL: " << (what) << std::endl; \
            return 1;                                     \
        }                                                 \
    } while (0)

}  // namespace

int main() {
    std::vector<int> v(1000);
    std::iota(v.begin(), v.end(), 0);
    std::reverse(v.begin(), v.end());
    std::sort(v.begin(), v.end());
    CHECK(std::accumulate(v.begin(), v.end(), 0LL) == 499500, "vector sum");
    std::map<std::string, int> m;
    std::unordered_map<int, std::string> u;
    for (int i = 0; i < 500; ++i) {
        m["k" + std::to_string(i)] = i;
        u[i] = std::string(i % 17, 'x');
    }
    CHECK(m.size() == 500 && m["k42"] == 42 && u[33].size() == 16, "maps");
    std::ostringstream os;
    os << "pi=" << 3.25 << " hex=" << std::hex << 255;
    CHECK(os.str() == "pi=3.25 hex=ff", "ostringstream");
    auto p = std::make_unique<std::string>(std::string(100, 'a') + "b");
    CHECK(p->back() == 'b' && p->size() == 101, "string");
    std::function<int(int)> f = [&](int x) { return x * 2; };
    CHECK(f(21) == 42, "std::function");

    bool caught = false;
    try {
        thrower(50);
    } catch (const std::runtime_error& e) {
        caught = std::string(e.what()) == "bottom reached";
    }
    CHECK(caught && depth == 0, "runtime_error through 50 frames, destructors run");
    try {
        throw Custom{7};
    } catch (const Custom& c) {
        caught = c.code == 7;
    }
    CHECK(caught, "custom type");
    try {
        try {
            v.at(5000);
        } catch (const std::out_of_range&) {
            throw;
        }
    } catch (const std::exception& e) {
        caught = true;
    }
    CHECK(caught, "rethrow of std::out_of_range");
    std::cout << "cxx: ok" << std::endl;
    std::cerr << "cxx: stderr ok" << std::endl;
    return 0;
}
