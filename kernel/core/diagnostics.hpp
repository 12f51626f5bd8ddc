// Where the kernel's own diagnostics go (std::cerr, std::clog, sanitizer
// reports). Normally fd 2; the native kernel captures fds 1 and 2 for the
// user's output and keeps a copy of the original stderr for itself.
#ifndef XACCEL_CORE_DIAGNOSTICS_HPP
#define XACCEL_CORE_DIAGNOSTICS_HPP

namespace xaccel
{
    // Sends std::cerr, std::clog and sanitizer reports (ASan, UBSan, LSan)
    // to `fd` from now on. The descriptor must stay open until exit.
    void redirect_diagnostics(int fd);
}

#endif
