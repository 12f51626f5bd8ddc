// Embeds the interpreter like the xaccel kernel: register `accel` as a
// built-in module before Py_Initialize, then use it from asyncio.run.
#include <accel_python.h>

#include <cstdio>

int main() {
    if (PyImport_AppendInittab("accel", PyInit_accel) != 0) return 2;
    Py_InitializeEx(0);
    const char* code =
        "import asyncio, hashlib, sys, accel\n"
        "assert 'accel' in sys.builtin_module_names, sys.builtin_module_names\n"
        "async def main():\n"
        "    r = await accel.sleep(0.01, 'ok')\n"
        "    d = await accel.sha256(b'x' * 1000000)\n"
        "    assert d == hashlib.sha256(b'x' * 1000000).hexdigest()\n"
        "    return r\n"
        "assert asyncio.run(main()) == 'ok'\n"
        "print('embedded accel ok')\n";
    int rc = PyRun_SimpleString(code);
    if (Py_FinalizeEx() < 0) rc = 3;
    return rc == 0 ? 0 : 1;
}
