#include "accel/file_io.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace accel {

namespace {
// Closes the descriptor on every exit path.
struct Fd {
    int fd;
    ~Fd() {
        if (fd >= 0) ::close(fd);
    }
};
Error os_error(const std::string& path) { return Error::os(errno, std::strerror(errno), path); }
Error cancelled_error() { return Error::make(ErrorKind::Cancelled, "file operation cancelled"); }
}  // namespace

Error read_file(const std::string& path, std::string& out, std::size_t max_size, const CancelCheck& cancelled) {
    Error failure;
    Error caught = capture_errors([&] {
        Fd f{::open(path.c_str(), O_RDONLY | O_CLOEXEC)};
        if (f.fd < 0) return void(failure = os_error(path));
        struct stat st {};
        if (::fstat(f.fd, &st) != 0) return void(failure = os_error(path));
        if (S_ISDIR(st.st_mode)) return void(failure = Error::os(EISDIR, std::strerror(EISDIR), path));
        auto too_big = [&] {
            failure = Error::os(EFBIG,
                                "file is larger than max_size (" + std::to_string(max_size) + " bytes)", path);
        };
        if (st.st_size > 0 && static_cast<std::size_t>(st.st_size) > max_size) return too_big();
        out.clear();
        if (st.st_size > 0) out.reserve(static_cast<std::size_t>(st.st_size));
        for (;;) {
            if (cancelled && cancelled()) return void(failure = cancelled_error());
            // Read straight into the string, one chunk at a time; the
            // limit is checked before the string grows past it.
            // (out.size() <= max_size here; +1 detects "one byte too many")
            std::size_t left = max_size - out.size();
            std::size_t room = left >= kFileChunk ? kFileChunk : left + 1;
            std::size_t old = out.size();
            out.resize(old + room);
            ssize_t n = ::read(f.fd, &out[old], room);
            if (n < 0) {
                out.resize(old);
                if (errno == EINTR) continue;
                return void(failure = os_error(path));
            }
            out.resize(old + static_cast<std::size_t>(n));
            if (n == 0) break;
            if (out.size() > max_size) {
                out.clear();
                out.shrink_to_fit();
                return too_big();
            }
        }
    });
    if (caught) {
        out.clear();
        out.shrink_to_fit();
        return caught;
    }
    if (failure) {
        out.clear();
        out.shrink_to_fit();
        }
        return failure;
}

Error write_file(const std::string& path, const void* data, std::size_t size, const CancelCheck& cancelled) {
    Fd f{::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666)};
    if (f.fd < 0) return os_error(path);
    const char* p = static_cast<const char*>(data);
    while (size > 0) {
        if (cancelled && cancelled()) return cancelled_error();
        ssize_t n = ::write(f.fd, p, std::min(size, kFileChunk));
        if (n < 0) {
            if (errno == EINTR) continue;
            return os_error(path);
        }
        p += n;
        size -= static_cast<std::size_t>(n);
    }
    int fd = f.fd;
    f.fd = -1;
    if (::close(fd) != 0) return os_error(path);
    return {};
}

}  // namespace accel
