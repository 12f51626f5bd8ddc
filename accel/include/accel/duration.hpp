// Seconds given as double (from Python) -> chrono values without overflow.
// Converting 1e10 s or inf straight to nanoseconds overflows int64 (undefined
// behaviour, in practice a deadline in the past), so durations at or above
// kNeverSeconds mean "never" and become time_point::max().
#pragma once

#include <chrono>

namespace accel {

using SteadyClock = std::chrono::steady_clock;

// ~31.7 years: far beyond any real wait, far below the int64 nanosecond limit.
inline constexpr double kNeverSeconds = 1e9;

// True for +inf and huge values. NaN is not "never" (callers reject it).
inline bool is_never(double seconds) { return seconds >= kNeverSeconds; }

// Clamped duration: negative/NaN -> 0, never -> the kNeverSeconds cap.
SteadyClock::duration to_duration(double seconds);

// now + seconds; time_point::max() for never; negative/NaN -> now.
SteadyClock::time_point deadline_after(double seconds, SteadyClock::time_point now = SteadyClock::now());

}  // namespace accel
