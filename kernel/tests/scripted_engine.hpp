// The engine the kernel core imports, replaced in unit tests by a scripted one
// so that the core's message logic is tested without IPython:
//   "boom" raises, "fail" returns an error reply, any other code publishes it
//   as a stream and succeeds; with DEFER set (a global of __main__, where the
//   script runs), execute() returns None and the test calls finish_execute().
// ENGINE.calls lists the codes the core asked the engine to run.
#ifndef XACCEL_TESTS_SCRIPTED_ENGINE_HPP
#define XACCEL_TESTS_SCRIPTED_ENGINE_HPP

#include <string>
#include <utility>

#include <pybind11/embed.h>

#include "core/message.hpp"

namespace xaccel::testing
{
    inline void install_scripted_engine()
    {
        pybind11::exec(R"(
import sys, types, _xaccel
module = types.ModuleType("xaccel_kernel.engine")
DEFER = False
class Engine:
    def __init__(self):
        global ENGINE
        ENGINE = self
        self.calls = []
    def before_request(self, *args): pass
    def after_request(self, *args): pass
    def next_execution_count(self): return len(self.calls) + 1
    def execute(self, code, silent, store_history, user_expressions, allow_stdin, stop_on_error):
        self.calls.append(code)
        count = len(self.calls)
        if code == "boom":
            raise RuntimeError("engine failed")
        if code == "fail":
            return {"status": "error", "ename": "ValueError", "evalue": "", "traceback": [],
                    "execution_count": count}
        _xaccel.publish("stream", {"name": "stdout", "text": code})
        if DEFER:
            return None
        return {"status": "ok", "execution_count": count, "user_expressions": {}, "payload": []}
    def comm_info(self, content): return {"status": "ok", "comms": {}}
    def comm_message(self, msg_type, msg): self.calls.append(msg_type)
    def enter_beside_cell(self, parent): return parent["header"]["msg_id"]
    def leave_beside_cell(self, entered): self.calls.append("left beside")
    def shutdown(self, restart): pass
module.Engine = Engine
sys.modules["xaccel_kernel"] = types.ModuleType("xaccel_kernel")
sys.modules["xaccel_kernel.engine"] = module
)");
    }

    // A request as a client would send it, on shell unless told otherwise.
    inline message request(const std::string& type, nl::json content, channel c = channel::shell)
    {
        message m;
        m.origin = c;
        m.header = make_header(type, "client", "tester");
        m.content = std::move(content);
        return m;
    }
}

#endif
