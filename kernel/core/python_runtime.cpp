#include "python_runtime.hpp"

#include <stdexcept>
#include <string>

#include <unistd.h>

#include <pybind11/embed.h>

#ifdef XACCEL_HAS_ACCEL
extern "C" PyObject* PyInit_accel();
#endif

namespace xaccel
{
    namespace py = pybind11;

    namespace
    {
        // The Python interpreter installed next to `program` (a venv's or a
        // prefix's bin/), version-specific name first: sys.executable must
        // be a real Python, since pip, subprocess and multiprocessing's
        // spawn and forkserver start it. Empty if there is none.
        std::string sibling_interpreter(const std::string& program)
        {
            std::string::size_type slash = program.rfind('/');
            if (slash == std::string::npos)
            {
                return {};
            }
            const std::string dir = program.substr(0, slash + 1);
            const std::string version = std::to_string(PY_MAJOR_VERSION) + "." + std::to_string(PY_MINOR_VERSION);
            for (const std::string& name : {"python" + version, std::string("python3"), std::string("python")})
            {
                std::string candidate = dir + name;
                if (candidate != program && ::access(candidate.c_str(), X_OK) == 0)
                {
                    return candidate;
                }
            }
            return {};
        }
    }

    void register_builtin_modules()
    {
#ifdef XACCEL_HAS_ACCEL
        if (PyImport_AppendInittab("accel", &PyInit_accel) != 0)
        {
            throw std::runtime_error("could not register the built-in module 'accel'");
        }
#endif
    }

    python_runtime::python_runtime(const python_options& options)
    {
        PyConfig config;
        PyConfig_InitPythonConfig(&config);
        config.install_signal_handlers = options.install_signal_handlers ? 1 : 0;
        config.parse_argv = 0;
        if (options.use_frozen_modules >= 0)
        {
            config.use_frozen_modules = options.use_frozen_modules;
        }
        PyStatus status = PyConfig_SetBytesString(&config, &config.program_name, options.executable.c_str());
        // CPython finds the venv (pyvenv.cfg) from the executable's directory,
        // which is the same for the kernel binary and its sibling interpreter.
        const std::string interpreter = sibling_interpreter(options.executable);
        if (!PyStatus_Exception(status) && !interpreter.empty())
        {
            status = PyConfig_SetBytesString(&config, &config.executable, interpreter.c_str());
        }
        if (!PyStatus_Exception(status) && !options.home.empty())
        {
            status = PyConfig_SetBytesString(&config, &config.home, options.home.c_str());
        }
        if (PyStatus_Exception(status))
        {
            PyConfig_Clear(&config);
            throw std::runtime_error("could not configure the embedded Python");
        }
        std::vector<const char*> argv;
        for (const auto& arg : options.argv)
        {
            argv.push_back(arg.c_str());
        }
        // pybind11 clears `config` after initializing from it.
        m_interpreter = std::make_unique<py::scoped_interpreter>(&config, static_cast<int>(argv.size()),
                                                                 argv.data(), false);
    }

    python_runtime::~python_runtime() = default;
}
