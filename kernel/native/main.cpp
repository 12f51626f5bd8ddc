// xaccel: entry point of the native kernel.
#include <cstdio>
#include <cstring>
#include <iostream>
#include <string>
#include <vector>

#include <openssl/crypto.h>
#include <pybind11/embed.h>
#include <xeus/xeus_context.hpp>
#include <xeus/xkernel_configuration.hpp>

#include "../core/kernel_core.hpp"
#include "../core/python_runtime.hpp"
#include "interrupts.hpp"
#include "version.hpp"
#include "watchdog.hpp"
#include "inherited_listeners.hpp"
#include "zmq_transport.hpp"

namespace py = pybind11;

namespace
{
    void print_usage()
    {
        std::cout << "usage: xaccel -f CONNECTION_FILE\n"
                     "       xaccel --version\n"
                     "A Jupyter kernel for Python with a live asyncio loop (xaccel "
                  << XACCEL_VERSION << ").\n";
    }

    std::string connection_file(int argc, char* argv[])
    {
        for (int i = 1; i < argc; ++i)
        {
            if ((std::strcmp(argv[i], "-f") == 0 || std::strcmp(argv[i], "--connection-file") == 0) && i + 1 < argc)
            {
                return argv[i + 1];
            }
            if (std::strncmp(argv[i], "--connection-file=", 18) == 0)
            {
                return argv[i] + 18;
            }
        }
        return {};
    }

    // Runs the engine's main loop until a shutdown. An interrupt that lands
    // between two of its iterations (or was held back while the engine
    // started) has nothing to stop: the loop just goes on.
    void serve(xaccel::kernel_core& core)
    {
        while (!core.stop_requested())
        {
            try
            {
                py::module_::import("xaccel_kernel.engine").attr("serve_forever")();
            }
            catch (py::error_already_set& e)
            {
                if (!e.matches(PyExc_KeyboardInterrupt))
                {
                    throw;
                }
            }
        }
    }

    std::string executable_path(const char* argv0)
    {
        std::vector<char> buffer(4096);
        ssize_t n = readlink("/proc/self/exe", buffer.data(), buffer.size() - 1);
        if (n > 0)
        {
            return std::string(buffer.data(), static_cast<std::size_t>(n));
        }
        return argv0;
    }
}

int main(int argc, char* argv[])
{
    // OpenSSL's atexit cleanup must not race with the iopub thread signing
    // a last message (a crash seen in other xeus 2.4 kernels at shutdown).
    OPENSSL_init_crypto(OPENSSL_INIT_NO_ATEXIT, nullptr);
    xaccel::block_interrupts_in_new_threads();

    for (int i = 1; i < argc; ++i)
    {
        if (std::strcmp(argv[i], "--version") == 0)
        {
            std::cout << "xaccel " << XACCEL_VERSION << std::endl;
            return 0;
        }
        if (std::strcmp(argv[i], "-h") == 0 || std::strcmp(argv[i], "--help") == 0)
        {
            print_usage();
            return 0;
        }
    }
    std::string file = connection_file(argc, argv);
    if (file.empty())
    {
        print_usage();
        return 2;
    }

    xeus::xconfiguration config;
    try
    {
        config = xeus::load_configuration(file);
    }
    catch (std::exception& e)
    {
        std::cerr << "xaccel: cannot read connection file '" << file << "': " << e.what() << std::endl;
        return 2;
    }

    // Before Python starts: its os.environ must not carry the hand-over.
    xaccel::inherited_listeners listeners(config);
    int exit_code = 0;
    xaccel::register_builtin_modules();
    xaccel::python_options options;
    options.executable = executable_path(argv[0]);
    options.argv.assign(argv, argv + argc);
    options.use_frozen_modules = 0;
    xaccel::python_runtime python(options);
    // For %connect_info and %qtconsole (xaccel_kernel/kernel_magics.py).
    py::module_::import("_xaccel").attr("connection_file") = file;
    {
        auto context = xeus::make_context<zmq::context_t>();
        try
        {
            xaccel::zmq_transport transport(context->m_context, config, listeners);
            xaccel::kernel_core core(transport, XACCEL_VERSION);
            core.set_debugger_available(true);
            transport.attach(core);
            transport.start_channels();
            xaccel::install_interrupt_handler();
            xaccel::watchdog dog([&transport] { transport.dispatch(false); },
                                 [&core] { core.request_stop(); });
            core.set_execution_observer(&dog);
            // IPython and the engine's modules load in a helper thread while
            // kernel_info is answered (xaccel_kernel/preload.py); started
            // before this thread takes SIGINT, so the helper never does.
            py::module_::import("xaccel_kernel.preload").attr("start")();
            // Never import from two threads at once: the engine's start waits
            // for the helper.
            core.set_before_engine_start([] { py::module_::import("xaccel_kernel.preload").attr("wait")(); });
            xaccel::accept_interrupts_on_this_thread();
            // Announce 'starting' and answer kernel_info at once; IPython loads
            // on the first request that needs it, or as soon as the client is quiet.
            transport.serve_until_engine_started();
            if (!core.stop_requested())
            {
                transport.start_engine();
                serve(core);
            }
            xaccel::block_interrupts_in_new_threads();
            core.set_execution_observer(nullptr);
            dog.stop();
            // A shutdown before the engine started: no import is left running.
            py::module_::import("xaccel_kernel.preload").attr("wait")();
            core.shutdown_engine();
            transport.stop();
        }
        catch (py::error_already_set& e)
        {
            std::cerr << "xaccel: fatal Python error: " << e.what() << std::endl;
            exit_code = 1;
        }
        catch (std::exception& e)
        {
            std::cerr << "xaccel: fatal error: " << e.what() << std::endl;
            exit_code = 1;
        }
    }
    std::fflush(stdout);
    return exit_code;
}
