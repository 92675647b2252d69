#include "kiln/format.h"

#include <stdint.h>

namespace kiln {
namespace {

struct Out {
    FormatPut put;
    void* ctx;
    size_t count;

    void emit(const char* s, size_t n) {
        if (n == 0) return;
        put(ctx, s, n);
        count += n;
    }
    void repeat(char c, size_t n) {
        char chunk[32];
        for (size_t i = 0; i < sizeof(chunk); ++i) chunk[i] = c;
        while (n > 0) {
            size_t k = n < sizeof(chunk) ? n : sizeof(chunk);
            emit(chunk, k);
            n -= k;
        }
    }
};

struct Spec {
    bool left = false;  // '-'
    bool zero = false;  // '0'
    bool alt = false;   // '#': 0x prefix on non-zero hex
    size_t width = 0;
    bool has_precision = false;
    size_t precision = 0;
};

size_t str_len(const char* s, size_t max) {
    size_t n = 0;
    while (n < max && s[n] != '\0') ++n;
    return n;
}

// Lays out [sign/prefix][zeros][body] inside the field width.
void emit_field(Out& out, const Spec& spec, const char* prefix, size_t prefix_len, const char* body,
                size_t body_len, size_t zeros) {
    size_t len = prefix_len + zeros + body_len;
    size_t pad = spec.width > len ? spec.width - len : 0;
    if (!spec.left && pad > 0 && spec.zero && !spec.has_precision) {
        // '0' flag: the padding goes between the sign/prefix and the digits.
        zeros += pad;
        pad = 0;
    }
    if (!spec.left) out.repeat(' ', pad);
    out.emit(prefix, prefix_len);
    out.repeat('0', zeros);
    out.emit(body, body_len);
    if (spec.left) out.repeat(' ', pad);
}

void emit_unsigned(Out& out, const Spec& spec, uint64_t v, unsigned base, bool upper,
                   const char* prefix, size_t prefix_len) {
    const char* digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
    char buf[24];
    size_t n = 0;
    // C: a zero value with precision 0 prints no digits.
    if (!(v == 0 && spec.has_precision && spec.precision == 0)) {
        do {
            buf[sizeof(buf) - 1 - n++] = digits[v % base];
            v /= base;
        } while (v != 0);
    }
    size_t zeros = spec.has_precision && spec.precision > n ? spec.precision - n : 0;
    emit_field(out, spec, prefix, prefix_len, buf + sizeof(buf) - n, n, zeros);
}

void run(Out& out, const char* fmt, va_list ap) {
    while (*fmt != '\0') {
        if (*fmt != '%') {
            const char* start = fmt;
            while (*fmt != '\0' && *fmt != '%') ++fmt;
            out.emit(start, static_cast<size_t>(fmt - start));
            continue;
        }
        const char* conv_start = fmt++;
        Spec spec;
        for (;; ++fmt) {
            if (*fmt == '-') {
                spec.left = true;
            } else if (*fmt == '0') {
                spec.zero = true;
            } else if (*fmt == '#') {
                spec.alt = true;
            } else {
                break;
            }
        }
        if (*fmt == '*') {
            int w = va_arg(ap, int);
            if (w < 0) {
                spec.left = true;
                w = -w;
            }
            spec.width = static_cast<size_t>(w);
            ++fmt;
        } else {
            while (*fmt >= '0' && *fmt <= '9') spec.width = spec.width * 10 + (*fmt++ - '0');
        }
        if (*fmt == '.') {
            ++fmt;
            spec.has_precision = true;
            if (*fmt == '*') {
                int p = va_arg(ap, int);
                // A negative precision is taken as if it were omitted.
                if (p < 0) spec.has_precision = false;
                spec.precision = p < 0 ? 0 : static_cast<size_t>(p);
                ++fmt;
            } else {
                while (*fmt >= '0' && *fmt <= '9') {
                    spec.precision = spec.precision * 10 + (*fmt++ - '0');
                }
            }
        }
        // Length: 0 = int, 1 = long, 2 = long long, 3 = size_t, -1 = short, -2 = char.
        int length = 0;
        if (*fmt == 'h') {
            length = -1;
            if (*++fmt == 'h') {
                length = -2;
                ++fmt;
            }
        } else if (*fmt == 'l') {
            length = 1;
            if (*++fmt == 'l') {
                length = 2;
                ++fmt;
            }
        } else if (*fmt == 'z') {
            length = 3;
            ++fmt;
        }

        char c = *fmt;
        if (c == '\0') {
            // A lone '%' (or unfinished spec) at the end: copy it as written.
            out.emit(conv_start, static_cast<size_t>(fmt - conv_start));
            break;
        }
        ++fmt;
        switch (c) {
            case '%':
                out.emit("%", 1);
                break;
            case 'c': {
                char ch = static_cast<char>(va_arg(ap, int));
                emit_field(out, spec, nullptr, 0, &ch, 1, 0);
                break;
            }
            case 's': {
                const char* s = va_arg(ap, const char*);
                if (s == nullptr) s = "(null)";
                size_t n = str_len(s, spec.has_precision ? spec.precision : SIZE_MAX);
                Spec s_spec = spec;
                s_spec.zero = false;
                emit_field(out, s_spec, nullptr, 0, s, n, 0);
                break;
            }
            case 'd':
            case 'i': {
                int64_t v;
                switch (length) {
                    case 1:
                        v = va_arg(ap, long);
                        break;
                    case 2:
                        v = va_arg(ap, long long);
                        break;
                    case 3:
                        v = static_cast<int64_t>(va_arg(ap, size_t));
                        break;
                    case -1:
                        v = static_cast<short>(va_arg(ap, int));
                        break;
                    case -2:
                        v = static_cast<signed char>(va_arg(ap, int));
                        break;
                    default:
                        v = va_arg(ap, int);
                        break;
                }
                // Negate as unsigned so INT64_MIN does not overflow.
                uint64_t mag = v < 0 ? 0 - static_cast<uint64_t>(v) : static_cast<uint64_t>(v);
                emit_unsigned(out, spec, mag, 10, false, v < 0 ? "-" : nullptr, v < 0 ? 1 : 0);
                break;
            }
            case 'u':
            case 'x':
            case 'X': {
                uint64_t v;
                switch (length) {
                    case 1:
                        v = va_arg(ap, unsigned long);
                        break;
                    case 2:
                        v = va_arg(ap, unsigned long long);
                        break;
                    case 3:
                        v = va_arg(ap, size_t);
                        break;
                    case -1:
                        v = static_cast<unsigned short>(va_arg(ap, unsigned));
                        break;
                    case -2:
                        v = static_cast<unsigned char>(va_arg(ap, unsigned));
                        break;
                    default:
                        v = va_arg(ap, unsigned);
                        break;
                }
                bool prefix = spec.alt && c != 'u' && v != 0;
                emit_unsigned(out, spec, v, c == 'u' ? 10 : 16, c == 'X', c == 'X' ? "0X" : "0x",
                              prefix ? 2 : 0);
                break;
            }
            case 'p': {
                uint64_t v = reinterpret_cast<uintptr_t>(va_arg(ap, void*));
                emit_unsigned(out, spec, v, 16, false, "0x", 2);
                break;
            }
            default:
                // Unknown conversion: show it rather than guess at its argument.
                out.emit(conv_start, static_cast<size_t>(fmt - conv_start));
                break;
        }
    }
}

struct BufferSink {
    char* buf;
    size_t cap;  // > 0; the last byte is kept for the NUL
    size_t pos;
};

void buffer_put(void* ctx, const char* s, size_t n) {
    auto* sink = static_cast<BufferSink*>(ctx);
    size_t room = sink->cap - 1 - sink->pos;
    size_t k = n < room ? n : room;
    for (size_t i = 0; i < k; ++i) sink->buf[sink->pos + i] = s[i];
    sink->pos += k;
}

void discard_put(void*, const char*, size_t) {}

}  // namespace

size_t vformat(char* buf, size_t cap, const char* fmt, va_list ap) {
    BufferSink sink{buf, cap, 0};
    Out out{cap > 0 ? buffer_put : discard_put, &sink, 0};
    run(out, fmt, ap);
    if (cap > 0) buf[sink.pos] = '\0';
    return out.count;
}

size_t format(char* buf, size_t cap, const char* fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    size_t n = vformat(buf, cap, fmt, ap);
    va_end(ap);
    return n;
}

void vformat_to(FormatPut put, void* ctx, const char* fmt, va_list ap) {
    Out out{put, ctx, 0};
    run(out, fmt, ap);
}

void format_to(FormatPut put, void* ctx, const char* fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vformat_to(put, ctx, fmt, ap);
    va_end(ap);
}

}  // namespace kiln
