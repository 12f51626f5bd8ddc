// MurmurHash2, 32-bit, x86 (Austin Appleby's reference algorithm): the hash
// JupyterLab's debugger names cell files with (xaccel_kernel/cells.py). Each
// executed cell is hashed; in Python that cost about 0.7 us per byte (0.35 ms
// for a 500-byte cell), here it is negligible. Header-only so that both
// builds (native and browser) get it with the built-in module.
#ifndef XACCEL_CORE_MURMUR_HASH_HPP
#define XACCEL_CORE_MURMUR_HASH_HPP

#include <cstddef>
#include <cstdint>

namespace xaccel
{
    inline std::uint32_t murmur2_32(const unsigned char* data, std::size_t length, std::uint32_t seed) noexcept
    {
        constexpr std::uint32_t m = 0x5bd1e995;
        // The reference hashes an int length: cells longer than 4 GiB wrap, as there.
        std::uint32_t h = seed ^ static_cast<std::uint32_t>(length);
        while (length >= 4)
        {
            // Little-endian blocks, whatever the host's byte order.
            std::uint32_t k = static_cast<std::uint32_t>(data[0]) | static_cast<std::uint32_t>(data[1]) << 8
                              | static_cast<std::uint32_t>(data[2]) << 16 | static_cast<std::uint32_t>(data[3]) << 24;
            k *= m;
            k ^= k >> 24;
            k *= m;
            h *= m;
            h ^= k;
            data += 4;
            length -= 4;
        }
        switch (length)
        {
        case 3: h ^= static_cast<std::uint32_t>(data[2]) << 16; [[fallthrough]];
        case 2: h ^= static_cast<std::uint32_t>(data[1]) << 8; [[fallthrough]];
        case 1:
            h ^= data[0];
            h *= m;
        }
        h ^= h >> 13;
        h *= m;
        h ^= h >> 15;
        return h;
    }
}

#endif
