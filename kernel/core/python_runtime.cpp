#include "python_runtime.hpp"

#include <stdexcept>

#include <pybind11/embed.h>

#ifdef XACCEL_HAS_ACCEL
extern "C" PyObject* PyInit_accel();
#endif

namespace xaccel
{
    namespace py = pybind11;

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
        PyStatus status = PyConfig_SetBytesString(&config, &config.program_name, options.executable.c_str());
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
