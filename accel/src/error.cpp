#include "accel/error.hpp"

#include <new>
#include <stdexcept>
#include <system_error>

namespace accel {

Error Error::from_current_exception() noexcept {
    try {
        try {
            throw;
        } catch (const std::bad_alloc&) {
            return make(ErrorKind::Memory, "out of memory in an accel operation");
        } catch (const std::length_error& e) {
            return make(ErrorKind::Memory, std::string("out of memory in an accel operation: ") + e.what());
        } catch (const std::system_error& e) {
            return os(e.code().value(), e.what());
        } catch (const std::invalid_argument& e) {
            return make(ErrorKind::InvalidArgument, e.what());
        } catch (const std::exception& e) {
            return make(ErrorKind::Runtime, e.what());
        } catch (...) {
            return make(ErrorKind::Runtime, "accel: unknown C++ exception on a runtime thread");
        }
    } catch (...) {  // building the message itself failed (no memory)
        Error e;
        e.kind = ErrorKind::Memory;
        return e;
    }
}

}  // namespace accel
