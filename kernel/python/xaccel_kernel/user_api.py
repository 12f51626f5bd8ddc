"""`xaccel`: helpers of the xaccel kernel for notebook code, preloaded as
`xaccel` in every kernel (and importable there with `import xaccel`).

- `await xaccel.wait_for_change(widget, "value")` waits until a trait of a
  widget (any traitlets object) changes and returns its new value. It works in
  the cell that created the widget: while a cell awaits, the kernel goes on
  handling comm messages, so moving the slider in the front end resolves it.
"""

import asyncio
import threading

__all__ = ["wait_for_change"]


async def wait_for_change(obj, name="value", timeout=None):
    """Wait for the next change (after this call) of trait `name` of `obj` (an ipywidget or any
    `traitlets.HasTraits`) and return its new value.

    `timeout` (seconds) raises TimeoutError when no change came in time. The
    change may arrive on another thread (a comm message handled by a kernel
    subshell): the waiting cell is woken on its own event loop.
    """
    loop = asyncio.get_running_loop()
    future = loop.create_future()
    loop_thread = threading.get_ident()

    def resolve(value):
        if not future.done():
            future.set_result(value)

    def changed(change):
        if threading.get_ident() == loop_thread:
            resolve(change["new"])
        else:
            loop.call_soon_threadsafe(resolve, change["new"])

    obj.observe(changed, names=name)
    try:
        if timeout is None:
            return await future
        return await asyncio.wait_for(future, timeout)
    finally:
        obj.unobserve(changed, names=name)
