// Reading and writing ports of any width, as little-endian bytes, 64-bit integers or hex strings.
#pragma once
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "model.h"

static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "port access assumes a little-endian host");

// Bytes that hold the value: ceil(width / 8).
inline size_t valueBytes(const Port& p) { return (static_cast<size_t>(p.width) + 7) / 8; }

// Low 64 bits of a port (all of it for ports up to 64 bits wide).
inline uint64_t readU64(const Port& p) {
    switch (p.kind) {
        case Kind::C: return *static_cast<const uint8_t*>(p.ptr);
        case Kind::S: return *static_cast<const uint16_t*>(p.ptr);
        case Kind::I: return *static_cast<const uint32_t*>(p.ptr);
        case Kind::Q: return *static_cast<const uint64_t*>(p.ptr);
        case Kind::W: {
            const auto* w = static_cast<const uint32_t*>(p.ptr);
            return p.width > 32 ? (uint64_t{w[1]} << 32) | w[0] : w[0];
        }
    }
    return 0;
}

// Writes an input port of up to 64 bits (the value must fit the width).
inline void writeU64(const Port& p, uint64_t v) {
    switch (p.kind) {
        case Kind::C: *static_cast<uint8_t*>(p.ptr) = static_cast<uint8_t>(v); break;
        case Kind::S: *static_cast<uint16_t*>(p.ptr) = static_cast<uint16_t>(v); break;
        case Kind::I: *static_cast<uint32_t*>(p.ptr) = static_cast<uint32_t>(v); break;
        case Kind::Q: *static_cast<uint64_t*>(p.ptr) = v; break;
        case Kind::W: {
            // Only for the low words of a wide port; callers use writeBytes for full values.
            auto* w = static_cast<uint32_t*>(p.ptr);
            w[0] = static_cast<uint32_t>(v);
            if (p.width > 32) w[1] = static_cast<uint32_t>(v >> 32);
            break;
        }
    }
}

// Writes `n` little-endian bytes (n <= valueBytes) into the port, zero-filling above and masking bits
// beyond the width (Verilator expects them to be zero).
void writeBytes(const Port& p, const uint8_t* src, size_t n);
// Copies valueBytes(p) little-endian bytes out of the port.
void readBytes(const Port& p, uint8_t* dst);

// Lowercase hex without prefix or leading zeros ("0" for zero).
std::string toHex(const Port& p);
// Parses hex (any case, leading zeros allowed) into valueBytes(width) little-endian bytes.
// Returns an error message, empty on success.
std::string parseHex(const std::string& hex, int width, std::vector<uint8_t>& out);
