// Owns the embedded CPython interpreter for the lifetime of the kernel.
#ifndef XACCEL_CORE_PYTHON_RUNTIME_HPP
#define XACCEL_CORE_PYTHON_RUNTIME_HPP

#include <memory>
#include <string>
#include <vector>

namespace pybind11
{
    class scoped_interpreter;
}

namespace xaccel
{
    struct python_options
    {
        // Path of the running executable: CPython finds a virtual environment
        // (pyvenv.cfg next to or above it) from here, as it does for `python`.
        // A Python interpreter in the same directory (python3.X, python3,
        // python) becomes sys.executable, so that pip, subprocess and
        // multiprocessing start a real Python of the same environment.
        std::string executable;
        // Frozen standard library modules (PyConfig.use_frozen_modules):
        // -1 lets CPython decide (frozen in an installed libpython). 0 imports
        // them from their files as Debian's python3 does, so tracebacks and
        // inspection show their source and real paths, as under ipykernel.
        int use_frozen_modules = -1;
        // What the user's code sees as sys.argv.
        std::vector<std::string> argv;
        // Let Python install its SIGINT handler (KeyboardInterrupt).
        bool install_signal_handlers = true;
        // PYTHONHOME for embedders with a fixed layout (the browser build:
        // "/usr/local"); empty: CPython's own search from `executable`.
        std::string home;
    };

    // Registers the built-in modules linked into this binary (accel) so that
    // they import without a file on disk. Must run before python_runtime.
    void register_builtin_modules();

    class python_runtime
    {
    public:
        explicit python_runtime(const python_options& options);
        ~python_runtime();

        python_runtime(const python_runtime&) = delete;
        python_runtime& operator=(const python_runtime&) = delete;

    private:
        std::unique_ptr<pybind11::scoped_interpreter> m_interpreter;
    };
}

#endif
