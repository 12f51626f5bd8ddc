// create/delete/list_subshell_request, served on the control thread (so they
// are answered while the main thread is busy). The subshell's Python thread
// is started and joined by xaccel_kernel/subshells.py, called with the GIL.
#include <iostream>

#include <pybind11/embed.h>

#include "control_thread.hpp"

namespace py = pybind11;

namespace xaccel
{
    namespace
    {
        nl::json unknown_subshell(const std::string& id)
        {
            return nl::json{{"status", "error"},
                            {"ename", "UnknownSubshellError"},
                            {"evalue", "Unknown subshell_id '" + id + "'"},
                            {"traceback", nl::json::array()}};
        }

        nl::json python_error(const py::error_already_set& e)
        {
            return nl::json{{"status", "error"},
                            {"ename", "SubshellError"},
                            {"evalue", e.what()},
                            {"traceback", nl::json::array()}};
        }
    }

    nl::json control_thread::serve_subshell_request(const std::string& msg_type, const nl::json& content)
    {
        if (p_subshells == nullptr)
        {
            return nl::json{{"status", "error"}, {"ename", "SubshellError"}, {"evalue", "no subshells here"}};
        }
        if (msg_type == "list_subshell_request")
        {
            return nl::json{{"status", "ok"}, {"subshell_id", p_subshells->ids()}};
        }
        wait_for_engine_once();
        // The GIL with a passing thread state: `threading` must not register
        // this thread (ipykernel's tests count threads around a subshell).
        if (msg_type == "create_subshell_request")
        {
            std::string id = p_subshells->create();
            py::gil_scoped_acquire gil;
            try
            {
                py::module_::import("xaccel_kernel.subshells").attr("start")(id);
            }
            catch (py::error_already_set& e)
            {
                p_subshells->remove(id);
                std::cerr << "xaccel: cannot start a subshell: " << e.what() << std::endl;
                return python_error(e);
            }
            return nl::json{{"status", "ok"}, {"subshell_id", id}};
        }
        // delete_subshell_request
        auto field = content.find("subshell_id");
        if (field == content.end() || !field->is_string())
        {
            return nl::json{{"status", "error"},
                            {"ename", "ValueError"},
                            {"evalue", "delete_subshell_request needs a string 'subshell_id'"},
                            {"traceback", nl::json::array()}};
        }
        const std::string id = field->get<std::string>();
        if (!p_subshells->remove(id))
        {
            return unknown_subshell(id);
        }
        py::gil_scoped_acquire gil;
        try
        {
            // Waits for the subshell's running request to finish, as ipykernel.
            py::module_::import("xaccel_kernel.subshells").attr("stop")(id);
        }
        catch (py::error_already_set& e)
        {
            std::cerr << "xaccel: while stopping subshell " << id << ": " << e.what() << std::endl;
        }
        return nl::json{{"status", "ok"}};
    }
}
