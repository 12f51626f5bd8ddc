// Blocking whole-file helpers meant to run on executor threads. Errors carry
// errno and the filename so the binding can raise the matching OSError.
#pragma once

#include <cstddef>
#include <string>

#include "accel/error.hpp"

namespace accel {

Error read_file(const std::string& path, std::string& out);
Error write_file(const std::string& path, const void* data, std::size_t size);

}  // namespace accel
