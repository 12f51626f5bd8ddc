"""IPython and the engine's modules, imported in a helper thread at start-up.

The native kernel answers kernel_info before it loads IPython, then waits for
a request that needs the engine; importing the engine's modules (asyncio,
IPython, ...: most of the start-up) would only begin then. A helper thread
imports them meanwhile, on the other core, while the main thread serves
kernel_info. Before the engine starts, the main thread waits for the helper
(`wait()`, main.cpp's hook in the core): the two threads never import at the same
time, so module import locks cannot deadlock. Only imports run here, and
nothing these modules do when imported depends on the thread.

In the browser there are no threads: start() is never called and wait()
returns at once.
"""

import signal
import sys
import threading

# What the engine imports (engine.py, and what Engine() and IPython's shell
# import on creation); `accel` is left to the main thread.
MODULES = (
    "xaccel_kernel.engine",
    "xaccel_kernel.fd_capture",
    "xaccel_kernel.shell",
    "xaccel_kernel.history",
    "xaccel_kernel.user_api",
    "xaccel_kernel.profile",
    "traitlets.config",
    "sqlite3",
    "IPython.core.application",
    "IPython.core.completer",
    "IPython.core.completerlib",
    "IPython.core.crashhandler",
    "IPython.core.magics",
    "IPython.core.oinspect",
    "IPython.core.payloadpage",
    "IPython.core.shellapp",
    "IPython.extensions.storemagic",
    "IPython.utils.generics",
    "IPython.utils.wildcard",
)

_thread = None
_switch_interval = None
# The modules the helper imported, in order (for tests and diagnostics).
imported = []


def _import_all():
    # Interrupts belong to the main thread (it polls the sockets).
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    import importlib

    for name in MODULES:
        try:
            importlib.import_module(name)
        except BaseException:  # noqa: BLE001 - the engine imports it again and reports
            return
        imported.append(name)


def start():
    global _thread, _switch_interval
    if _thread is not None:
        return
    # The main thread takes the GIL back within 1 ms (not 5) when a
    # kernel_info arrives meanwhile.
    _switch_interval = sys.getswitchinterval()
    sys.setswitchinterval(min(_switch_interval, 0.001))
    _thread = threading.Thread(target=_import_all, name="xaccel-preload", daemon=True)
    _thread.start()


def wait():
    """Return once the helper thread is done (at once if there is none)."""
    global _thread, _switch_interval
    thread, _thread = _thread, None
    if thread is None:
        return
    thread.join()
    if _switch_interval is not None:
        sys.setswitchinterval(_switch_interval)
        _switch_interval = None
