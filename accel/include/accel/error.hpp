// Plain C++ error description produced by workers; the binding layer maps
// it to a Python exception on the loop thread.
#pragma once

#include <string>

namespace accel {

enum class ErrorKind {
    None,
    OS,               // code = errno, filename optional
    Timeout,
    Cancelled,
    InvalidArgument,
    Runtime,
    NotImplemented,
    Connection,       // code = errno when known
    Closed,           // channel closed
    Data,             // corrupt input (e.g. zlib)
    Memory,           // std::bad_alloc on a runtime thread
};

struct Error {
    ErrorKind kind = ErrorKind::None;
    int code = 0;
    std::string message;
    std::string filename;

    explicit operator bool() const { return kind != ErrorKind::None; }

    static Error os(int err, std::string msg, std::string file = {}) {
        return Error{ErrorKind::OS, err, std::move(msg), std::move(file)};
    }
    static Error make(ErrorKind k, std::string msg, int code = 0) {
        return Error{k, code, std::move(msg), {}};
    }
    // Inside a catch block: describes the exception in flight, so a runtime
    // thread reports it to the operation instead of calling std::terminate.
    static Error from_current_exception() noexcept;
};

// Runs fn() and returns the exception it threw as an Error (none: empty Error).
template <class Fn>
Error capture_errors(Fn&& fn) noexcept {
    try {
        fn();
        return {};
    } catch (...) {
        return Error::from_current_exception();
    }
}

}  // namespace accel
