// Span<T>: a pointer and a length, with checked sub-spans. Parsers take one
// and return a Result, so every access to foreign bytes is bounds-checked.
#pragma once

#include <stddef.h>
#include <stdint.h>

namespace kiln {

template <typename T>
class Span {
public:
    constexpr Span() = default;
    constexpr Span(T* data, size_t size) : data_(data), size_(size) {}
    template <size_t N>
    constexpr Span(T (&arr)[N]) : data_(arr), size_(N) {}

    constexpr T* data() const { return data_; }
    constexpr size_t size() const { return size_; }
    constexpr bool empty() const { return size_ == 0; }
    constexpr T& operator[](size_t i) const { return data_[i]; }
    constexpr T* begin() const { return data_; }
    constexpr T* end() const { return data_ + size_; }

    // True when [offset, offset+len) lies inside the span, without overflow.
    constexpr bool contains(size_t offset, size_t len) const {
        return offset <= size_ && len <= size_ - offset;
    }
    // The sub-span [offset, offset+len), or an empty span when out of range;
    // check contains() first where empty is a valid answer.
    constexpr Span subspan(size_t offset, size_t len) const {
        if (!contains(offset, len)) return Span();
        return Span(data_ + offset, len);
    }
    constexpr Span subspan(size_t offset) const {
        if (offset > size_) return Span();
        return Span(data_ + offset, size_ - offset);
    }

private:
    T* data_ = nullptr;
    size_t size_ = 0;
};

using Bytes = Span<const uint8_t>;

}  // namespace kiln
