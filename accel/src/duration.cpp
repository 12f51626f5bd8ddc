#include "accel/duration.hpp"

namespace accel {

SteadyClock::duration to_duration(double seconds) {
    if (!(seconds > 0)) return SteadyClock::duration::zero();  // negative or NaN
    if (is_never(seconds)) seconds = kNeverSeconds;
    return std::chrono::duration_cast<SteadyClock::duration>(std::chrono::duration<double>(seconds));
}

SteadyClock::time_point deadline_after(double seconds, SteadyClock::time_point now) {
    if (is_never(seconds)) return SteadyClock::time_point::max();
    return now + to_duration(seconds);
}

}  // namespace accel
