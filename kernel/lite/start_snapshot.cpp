#include "start_snapshot.hpp"

#include <emscripten.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <exception>

#include <pybind11/embed.h>

namespace py = pybind11;

namespace xaccel::web
{
    void offer_snapshot()
    {
        EM_ASM({
            if (Module.__xwSnapshot) Module.__xwSnapshot.offered();
        });
    }
}

// The end of the memory in use (the heap's break) when the kernel is at a point
// where its memory can be copied and later restored as a start: the engine
// started, no request handled, the event loop waiting for nothing. 0 otherwise.
// Called by JavaScript from a macrotask of its own, so no wasm frame is live.
extern "C" EMSCRIPTEN_KEEPALIVE std::uintptr_t xaccel_web_snapshot_point()
{
    using namespace xaccel::web;
    xaccel::kernel_core* core = started_kernel();
    if (core == nullptr || !core->engine_started() || requests_handled() != 0 || callbacks_pending())
    {
        return 0;
    }
    try
    {
        py::gil_scoped_acquire gil;
        if (!py::module_::import("xaccel_kernel.websnapshot").attr("can_snapshot")().cast<bool>())
        {
            return 0;
        }
    }
    catch (std::exception& e)
    {
        std::fprintf(stderr, "xaccel: no start-up snapshot: %s\n", e.what());
        return 0;
    }
    return reinterpret_cast<std::uintptr_t>(sbrk(0));
}

// Called by JavaScript right after it put a snapshot's memory back (before the
// worker creates its xkernel): what must be new for every start is made new.
// Returns 1, or 0 if the restored kernel cannot be used.
extern "C" EMSCRIPTEN_KEEPALIVE int xaccel_web_snapshot_restored()
{
    using namespace xaccel::web;
    xaccel::kernel_core* core = started_kernel();
    if (core == nullptr || !core->engine_started())
    {
        return 0;
    }
    try
    {
        forget_callbacks();
        xaccel::reseed_new_uuid();
        core->renew_session();
        py::gil_scoped_acquire gil;
        py::module_::import("xaccel_kernel.websnapshot").attr("after_restore")();
        warm_up_restored_kernel();
    }
    catch (std::exception& e)
    {
        std::fprintf(stderr, "xaccel: the start-up snapshot could not be restored: %s\n", e.what());
        return 0;
    }
    return 1;
}
