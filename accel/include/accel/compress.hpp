// zlib-format (RFC 1950) compress/decompress, byte-compatible with Python's
// zlib.compress / zlib.decompress at the same level.
#pragma once

#include <cstddef>
#include <string>

#include "accel/error.hpp"

namespace accel {

Error zlib_compress(const void* data, std::size_t size, int level, std::string& out);
Error zlib_decompress(const void* data, std::size_t size, std::string& out);

}  // namespace accel
