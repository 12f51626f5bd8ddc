#include "accel/file_io.hpp"

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
}  // namespace

Error read_file(const std::string& path, std::string& out) {
    Fd f{::open(path.c_str(), O_RDONLY | O_CLOEXEC)};
    if (f.fd < 0) return os_error(path);
    struct stat st {};
    if (::fstat(f.fd, &st) != 0) return os_error(path);
    if (S_ISDIR(st.st_mode)) return Error::os(EISDIR, std::strerror(EISDIR), path);
    out.clear();
    if (st.st_size > 0) out.reserve(static_cast<std::size_t>(st.st_size));
    char buf[1 << 16];
    for (;;) {
        ssize_t n = ::read(f.fd, buf, sizeof buf);
        if (n < 0) {
            if (errno == EINTR) continue;
            return os_error(path);
        }
        if (n == 0) break;
        out.append(buf, static_cast<std::size_t>(n));
    }
    return {};
}

Error write_file(const std::string& path, const void* data, std::size_t size) {
    Fd f{::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666)};
    if (f.fd < 0) return os_error(path);
    const char* p = static_cast<const char*>(data);
    while (size > 0) {
        ssize_t n = ::write(f.fd, p, size);
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
