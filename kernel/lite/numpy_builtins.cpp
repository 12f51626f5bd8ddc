// Registers numpy's extension modules, linked into xaccel.wasm from lite/build-numpy's
// archives, as built-in modules before Python starts (a static initializer, like
// pybind11's embedded modules). Compiled only when lite/build passes numpy's libraries.
#include <cstdio>
#include <cstdlib>

extern "C" int xaccel_numpy_append_inittab(void);

namespace
{
    const bool numpy_registered = []
    {
        if (xaccel_numpy_append_inittab() != 0)
        {
            std::fprintf(stderr, "xaccel: could not register numpy's built-in modules\n");
            std::abort();
        }
        return true;
    }();
}
