"""The Python side of starting the browser kernel from a memory snapshot.

kernel/lite/start_snapshot.cpp copies the worker's memory once the engine has
started (IPython imported, the shell made) and puts it back on a later load of
the site instead of redoing that work. Only a kernel that waits for nothing can
be copied: a JavaScript timer or message the event loop counts on would not
exist in the next worker. After the memory is back, whatever must differ from
one start to the next is made new here: the seeds of `random` and the clock
the event loop's bookkeeping was based on.
"""

import random
import tempfile

from . import engine as _engine_module


def _loop():
    engine = _engine_module._engine
    return engine.loop if engine is not None else None


def can_snapshot():
    """True when the started event loop has nothing to run: no ready callback,
    no timer. (The JavaScript callbacks it waits for, its wake-up macrotask and
    timer among them, are checked in start_snapshot.cpp.)"""
    loop = _loop()
    if loop is None:
        return False
    return not loop._ready and all(h._cancelled for h in loop._scheduled)


def after_restore():
    """Repairs a kernel whose memory was restored from a snapshot."""
    loop = _loop()
    if loop is not None:
        # Nothing was pending when the snapshot was taken (can_snapshot, and no
        # JavaScript callback: the loop's wake-up and timer were unset); the
        # cancelled timers left in the heap belong to the old worker's clock.
        loop._scheduled.clear()
        loop._timer_cancelled_count = 0
    # Every load would otherwise draw the same numbers.
    random.seed()
    tempfile._name_sequence = None


def warm_up():
    """The display formatting of a cell's result, which a silent execute_request
    leaves out (kernel/lite/main.cpp, warm_up_restored): its code runs once
    before the first cell needs it. Changes nothing the user sees."""
    engine = _engine_module._engine
    if engine is not None:
        engine.shell.displayhook.compute_format_data(2)
