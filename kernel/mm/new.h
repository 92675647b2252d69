// Objects on the kernel heap: make<T>(args...) returns nullptr when memory
// is exhausted (the caller turns that into ENOMEM), destroy() undoes it.
// No exceptions and no hosted <new>: placement new is declared here.
#pragma once

#include <stddef.h>

#include "mm/heap.h"

#ifndef KILN_HOSTED_NEW
inline void* operator new(size_t, void* p) noexcept { return p; }
#endif

namespace kiln::mm {

template <typename T, typename... Args>
T* make(Args&&... args) {
    void* p = heap_alloc(sizeof(T), alignof(T) < 16 ? 16 : alignof(T));
    if (p == nullptr) return nullptr;
    return new (p) T(static_cast<Args&&>(args)...);
}

template <typename T>
void destroy(T* p) {
    if (p == nullptr) return;
    p->~T();
    heap_free(p);
}

}  // namespace kiln::mm
