#include "diagnostics.hpp"

#include <cerrno>
#include <cstdint>
#include <iostream>
#include <streambuf>

#include <unistd.h>

#ifndef __EMSCRIPTEN__
// Present only in sanitizer builds (weak: null otherwise).
extern "C" void __sanitizer_set_report_fd(void* fd) __attribute__((weak));
#endif

namespace xaccel
{
    namespace
    {
        // Unbuffered: a diagnostic must be out before a crash that may follow.
        class fd_streambuf : public std::streambuf
        {
        public:
            void set_fd(int fd) noexcept
            {
                m_fd = fd;
            }

        protected:
            int_type overflow(int_type c) override
            {
                if (traits_type::eq_int_type(c, traits_type::eof()))
                {
                    return traits_type::not_eof(c);
                }
                char ch = traits_type::to_char_type(c);
                return xsputn(&ch, 1) == 1 ? c : traits_type::eof();
            }

            std::streamsize xsputn(const char* data, std::streamsize size) override
            {
                std::streamsize done = 0;
                while (done < size)
                {
                    ssize_t n = ::write(m_fd, data + done, static_cast<std::size_t>(size - done));
                    if (n < 0 && errno == EINTR)
                    {
                        continue;
                    }
                    if (n <= 0)
                    {
                        break;
                    }
                    done += n;
                }
                return done;
            }

        private:
            int m_fd = 2;
        };

        fd_streambuf g_diagnostics;
    }

    void redirect_diagnostics(int fd)
    {
        g_diagnostics.set_fd(fd);
        std::cerr.rdbuf(&g_diagnostics);
        std::clog.rdbuf(&g_diagnostics);
#ifndef __EMSCRIPTEN__
        if (__sanitizer_set_report_fd != nullptr)
        {
            __sanitizer_set_report_fd(reinterpret_cast<void*>(static_cast<std::intptr_t>(fd)));
        }
#endif
    }
}
