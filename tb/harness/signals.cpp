#include "signals.h"

namespace {
// Bytes Verilator allocates for the port: its storage type, or whole 32-bit words for wide ports.
size_t storageBytes(const Port& p) {
    switch (p.kind) {
        case Kind::C: return 1;
        case Kind::S: return 2;
        case Kind::I: return 4;
        case Kind::Q: return 8;
        case Kind::W: return 4 * ((static_cast<size_t>(p.width) + 31) / 32);
    }
    return 0;
}
}  // namespace

void writeBytes(const Port& p, const uint8_t* src, size_t n) {
    auto* dst = static_cast<uint8_t*>(p.ptr);
    const size_t vb = valueBytes(p);
    if (n > vb) n = vb;
    std::memcpy(dst, src, n);
    std::memset(dst + n, 0, storageBytes(p) - n);
    if (p.width % 8 != 0) dst[vb - 1] &= static_cast<uint8_t>((1u << (p.width % 8)) - 1);
}

void readBytes(const Port& p, uint8_t* dst) { std::memcpy(dst, p.ptr, valueBytes(p)); }

std::string toHex(const Port& p) {
    static const char digits[] = "0123456789abcdef";
    const auto* bytes = static_cast<const uint8_t*>(p.ptr);
    std::string s;
    for (size_t i = valueBytes(p); i-- > 0;) {
        s += digits[bytes[i] >> 4];
        s += digits[bytes[i] & 15];
    }
    const size_t first = s.find_first_not_of('0');
    return first == std::string::npos ? "0" : s.substr(first);
}

std::string parseHex(const std::string& hex, int width, std::vector<uint8_t>& out) {
    if (hex.empty()) return "empty hex value";
    out.assign((static_cast<size_t>(width) + 7) / 8, 0);
    size_t bit = 0;  // position of the digit being placed, counting from the least significant end
    for (size_t i = hex.size(); i-- > 0; bit += 4) {
        const char c = hex[i];
        int d;
        if (c >= '0' && c <= '9') d = c - '0';
        else if (c >= 'a' && c <= 'f') d = c - 'a' + 10;
        else if (c >= 'A' && c <= 'F') d = c - 'A' + 10;
        else return "bad hex digit '" + std::string(1, c) + "' in \"" + hex + "\"";
        if (d == 0) continue;
        // Every set bit of the digit must lie below the width.
        const int top = 31 - __builtin_clz(static_cast<unsigned>(d));
        if (bit + static_cast<size_t>(top) >= static_cast<size_t>(width))
            return "value " + hex + " does not fit in " + std::to_string(width) + " bits";
        out[bit / 8] |= static_cast<uint8_t>(d << (bit % 8));
    }
    return "";
}
