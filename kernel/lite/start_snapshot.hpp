// Starting the browser kernel from a memory snapshot of an earlier start.
//
// CPython's start and the engine's import (IPython, the shell) are most of the
// kernel's start in the browser, about a second of the worker's thread. Once a
// worker has done them, and before it has handled any request, the JavaScript
// half (snapshot_pre.js) copies the wasm memory into the browser's Cache Storage;
// the next load of the site puts it back right after the runtime is initialised
// and skips that work. This file says when the memory may be copied and repairs
// what must differ from one start to the next.
#ifndef XACCEL_LITE_START_SNAPSHOT_HPP
#define XACCEL_LITE_START_SNAPSHOT_HPP

#include "../core/kernel_core.hpp"

namespace xaccel::web
{
    // main.cpp: the worker's kernel (null before the first start()), how many
    // requests it was handed, and the JavaScript callbacks (timers, macrotasks,
    // fetches) the Python event loop waits for.
    kernel_core* started_kernel() noexcept;
    unsigned requests_handled() noexcept;
    bool callbacks_pending() noexcept;
    // Drops the callbacks of a restored memory: the JavaScript timers and
    // messages they belonged to were in the worker the snapshot came from.
    void forget_callbacks();
    // Once the page has connected and gone quiet, before any execute_request:
    // runs requests that change nothing a user sees, with the replies dropped, so
    // that the first cell does not pay for compiling the code they run.
    void warm_up_restored_kernel();

    // Called once the engine has started: JavaScript may take a snapshot in a
    // later macrotask (when nothing of a wasm call is on the stack).
    void offer_snapshot();
}

#endif
