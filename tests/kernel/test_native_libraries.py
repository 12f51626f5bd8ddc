"""What the native kernel process loads: libcurl only once HTTP is used (it
and its ~20 dependencies cost every kernel memory and start-up time), and
extension modules find CPython's C API whether the executable links CPython
statically (kernel/native/static_python.cmake) or not."""

from kernel_harness import execute, value_of

MAPPED = "any({!r} in line for line in open('/proc/self/maps'))"


def run(kc, code):
    reply, _ = execute(kc, code)
    assert reply["status"] == "ok", reply


def test_libcurl_is_loaded_on_first_fetch_only(kernel):
    km, kc = kernel
    run(kc, "import accel")
    assert value_of(kc, MAPPED.format("libcurl")) == "False", "libcurl was loaded before any fetch"
    assert value_of(kc, "accel.has_native_fetch()") == "True"
    assert value_of(kc, MAPPED.format("libcurl")) == "True"


def test_extension_modules_and_ctypes_reach_the_c_api(shared_kernel):
    km, kc = shared_kernel
    # Extension modules of the standard library (lib-dynload) and of the venv.
    run(kc, "import _ssl, _sqlite3, _decimal, _ctypes, zmq, psutil, decimal, ctypes")
    assert value_of(kc, "str(decimal.Decimal(1) / 3)[:6]") == "'0.3333'"
    # ctypes.pythonapi looks CPython's functions up in the process itself.
    assert value_of(kc, "ctypes.pythonapi.Py_IsInitialized()") == "1"
