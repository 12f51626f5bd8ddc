// zlib-format (RFC 1950) compress/decompress, byte-compatible with Python's
// zlib.compress / zlib.decompress at the same level.
#pragma once

#include <cstddef>
#include <functional>
#include <string>

#include "accel/error.hpp"

namespace accel {

// Both stop with ErrorKind::Cancelled at the next step (at most ~1 MiB of
// output) once `cancelled` returns true; allocation failure (a zip bomb)
// gives ErrorKind::Memory.
Error zlib_compress(const void* data, std::size_t size, int level, std::string& out,
                    const std::function<bool()>& cancelled = {});
Error zlib_decompress(const void* data, std::size_t size, std::string& out,
                      const std::function<bool()>& cancelled = {});

}  // namespace accel
