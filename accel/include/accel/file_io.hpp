// Blocking whole-file helpers meant to run on executor threads. Errors carry
// errno and the filename so the binding can raise the matching OSError.
// Both work in chunks and stop at the next chunk once `cancelled` returns
// true (result: ErrorKind::Cancelled), so a cancelled read of an endless
// file (/dev/zero, a pipe) releases its worker.
#pragma once

#include <cstddef>
#include <functional>
#include <string>

#include "accel/error.hpp"

namespace accel {

using CancelCheck = std::function<bool()>;

inline constexpr std::size_t kFileChunk = 1 << 20;
inline constexpr std::size_t kNoSizeLimit = static_cast<std::size_t>(-1);

// More than max_size bytes: OS error EFBIG ("larger than max_size") and
// nothing is returned. Allocation failure: ErrorKind::Memory.
Error read_file(const std::string& path, std::string& out, std::size_t max_size = kNoSizeLimit,
                const CancelCheck& cancelled = {});
Error write_file(const std::string& path, const void* data, std::size_t size, const CancelCheck& cancelled = {});

}  // namespace accel
