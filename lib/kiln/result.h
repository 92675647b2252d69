// Result<T>: a T or a Linux errno. Errors travel as values (no exceptions in
// the kernel), and the syscall boundary speaks errno anyway.
#pragma once

#include "kiln/errno.h"

namespace kiln {

// Placement new without <new>, which a freestanding build may not have.
struct ResultPlacement {};
}  // namespace kiln
inline void* operator new(unsigned long, void* p, kiln::ResultPlacement) noexcept {
    return p;
}

namespace kiln {

struct ErrorTag {
    Errno e;
};
constexpr ErrorTag Error(Errno e) {
    return ErrorTag{e};
}

template <typename T>
class [[nodiscard]] Result {
public:
    Result(const T& v) : ok_(true) { new (&storage_, ResultPlacement{}) T(v); }
    Result(T&& v) : ok_(true) { new (&storage_, ResultPlacement{}) T(static_cast<T&&>(v)); }
    Result(ErrorTag err) : ok_(false), err_(err.e) {}
    Result(const Result& o) : ok_(o.ok_), err_(o.err_) {
        if (ok_) new (&storage_, ResultPlacement{}) T(o.value());
    }
    Result(Result&& o) : ok_(o.ok_), err_(o.err_) {
        if (ok_) new (&storage_, ResultPlacement{}) T(static_cast<T&&>(o.value()));
    }
    Result& operator=(const Result&) = delete;
    ~Result() {
        if (ok_) value().~T();
    }

    bool ok() const { return ok_; }
    explicit operator bool() const { return ok_; }
    Errno error() const { return err_; }
    T& value() { return *reinterpret_cast<T*>(&storage_); }
    const T& value() const { return *reinterpret_cast<const T*>(&storage_); }
    T* operator->() { return &value(); }
    const T* operator->() const { return &value(); }
    T& operator*() { return value(); }
    const T& operator*() const { return value(); }
    T release_value() { return static_cast<T&&>(value()); }

private:
    bool ok_;
    Errno err_ = Errno::kEINVAL;
    alignas(T) unsigned char storage_[sizeof(T)];
};

template <>
class [[nodiscard]] Result<void> {
public:
    Result() : ok_(true) {}
    Result(ErrorTag err) : ok_(false), err_(err.e) {}
    bool ok() const { return ok_; }
    explicit operator bool() const { return ok_; }
    Errno error() const { return err_; }
    void release_value() {}

private:
    bool ok_;
    Errno err_ = Errno::kEINVAL;
};

}  // namespace kiln

// TRY(expr): evaluate a Result; on error return the error from the enclosing
// function, otherwise yield the value (a GNU statement expression).
#define TRY(expr)                                                         \
    ({                                                                    \
        auto _try_result = (expr);                                        \
        if (!_try_result.ok()) return ::kiln::Error(_try_result.error()); \
        _try_result.release_value();                                      \
    })
