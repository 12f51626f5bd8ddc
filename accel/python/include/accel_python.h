// Entry point of the `accel` module for embedders (the xaccel kernel):
//   PyImport_AppendInittab("accel", PyInit_accel);  // before Py_Initialize
#pragma once

#include <Python.h>

extern "C" PyObject* PyInit_accel();
