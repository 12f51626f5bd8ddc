// When a request was sent, from the `date` of its header (ISO 8601, as every
// Jupyter client writes it), in whole milliseconds since the Unix epoch.
//
// Used by stop_on_error where queued requests wait outside the kernel's reach
// (the browser build: JupyterLite's page holds them until the kernel's worker
// has handled the previous one): an execute_request sent before an error's
// reply left is aborted even though the kernel only sees it afterwards.
#ifndef XACCEL_CORE_SEND_TIME_HPP
#define XACCEL_CORE_SEND_TIME_HPP

#include <cstdint>
#include <optional>
#include <string>

#include "message.hpp"

namespace xaccel
{
    // "YYYY-MM-DDTHH:MM:SS[.fraction][Z|+HH:MM|-HH:MM]" (a space may replace
    // the T; no zone means UTC) -> milliseconds since the epoch, truncated.
    // Anything else: nullopt.
    std::optional<std::int64_t> parse_iso8601_ms(const std::string& text);

    // The header's `date`, or nullopt when it is missing or unreadable.
    std::optional<std::int64_t> sent_at_ms(const message& request);

    // The current UTC time in whole milliseconds since the epoch (the same
    // clock the browser's Date uses).
    std::int64_t now_ms();
}

#endif
