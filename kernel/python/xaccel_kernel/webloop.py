"""The kernel's asyncio event loop in the browser (sys.platform == "emscripten").

Nothing may block in a browser worker: the JavaScript event loop owns the
thread and delivers the kernel's messages, timers and fetch completions. This
loop therefore never waits. It is always "running" (the running loop of the
thread), and it asks JavaScript to call it back:

- ready callbacks (call_soon) run in one zero-delay macrotask (a MessageChannel
  message, which setTimeout's 4 ms clamping does not affect), one batch per
  macrotask, so that messages and timers interleave with a busy loop;
- the earliest timer (call_at/call_later) is one JavaScript setTimeout, re-armed
  when an earlier deadline appears;
- Fetch API requests resolve asyncio futures (see fetch_hook, used by
  accel.fetch through accel.set_fetch_hook).

An idle kernel has at most one pending setTimeout and uses no CPU.
"""

import asyncio
import heapq
import json
import threading
from asyncio import base_events, events

import _xaccel_web


class _NoSelector:
    """BaseEventLoop._run_once() selects with a timeout; here nothing waits."""

    def select(self, timeout=None):
        return []

    def close(self):
        pass


class WebLoop(base_events.BaseEventLoop):
    def __init__(self):
        super().__init__()
        self._selector = _NoSelector()
        self._wake_posted = False
        self._timer_id = None
        self._timer_when = None
        self._in_iteration = False
        # Kept for the engine: the native loop's attribute of the same name.
        self.on_interrupt = None

    # ---- the loop is always running -------------------------------------

    def attach_to_thread(self):
        self._thread_id = threading.get_ident()
        events._set_running_loop(self)
        asyncio.set_event_loop(self)

    def _process_events(self, event_list):
        pass

    def _write_to_self(self):
        pass

    def run_forever(self):
        raise RuntimeError(
            "The kernel's event loop is always running in the browser; "
            "use `await` in a cell or asyncio.create_task()."
        )

    def run_until_complete(self, future):
        from .webrun import run_sync

        return run_sync(future, "loop.run_until_complete()")

    # ---- scheduling through JavaScript ----------------------------------

    def call_soon(self, callback, *args, context=None):
        handle = super().call_soon(callback, *args, context=context)
        self._post_wake()
        return handle

    def call_soon_threadsafe(self, callback, *args, context=None):
        return self.call_soon(callback, *args, context=context)

    def call_at(self, when, callback, *args, context=None):
        handle = super().call_at(when, callback, *args, context=context)
        if not self._in_iteration:
            self._arm_timer()
        return handle

    def _post_wake(self):
        if self._wake_posted or self._in_iteration:
            return  # the running iteration re-arms what it needs at its end
        self._wake_posted = True
        _xaccel_web.post_soon(self._on_wake)

    def _on_wake(self):
        self._wake_posted = False
        self._iterate()

    def _on_timer(self):
        self._timer_id = None
        self._timer_when = None
        self._iterate()

    def _iterate(self):
        if self._closed:
            return
        self._in_iteration = True
        try:
            self._run_once()
        except KeyboardInterrupt:
            # A forced interrupt stopped a task (webinterrupt.py): the task
            # holds it, and its report says which one.
            pass
        except BaseException as exc:  # noqa: BLE001 - the loop must survive
            self.call_exception_handler({"message": "Error in the browser event loop", "exception": exc})
        finally:
            self._in_iteration = False
        if self._ready:
            self._post_wake()
        self._arm_timer()

    def _arm_timer(self):
        scheduled = self._scheduled
        while scheduled and scheduled[0]._cancelled:
            self._timer_cancelled_count -= 1
            handle = heapq.heappop(scheduled)
            handle._scheduled = False
        if not scheduled:
            self._cancel_timer()
            return
        when = scheduled[0]._when
        if self._timer_id is not None and self._timer_when is not None and self._timer_when <= when:
            return
        self._cancel_timer()
        # Rounded up, plus a millisecond: waking early would only re-arm.
        delay_ms = max(0.0, (when - self.time()) * 1000.0 + 1.0)
        self._timer_when = when
        self._timer_id = _xaccel_web.set_timeout(delay_ms, self._on_timer)

    def _cancel_timer(self):
        if self._timer_id is not None:
            _xaccel_web.clear_timeout(self._timer_id)
        self._timer_id = None
        self._timer_when = None

    def close(self):
        self._cancel_timer()
        super().close()


# ---- accel.fetch through the browser's Fetch API --------------------------


class WebResponse:
    """What accel.fetch() returns in the browser (same API as accel.Response)."""

    def __init__(self, status, url, headers, body):
        self.status = status
        self.url = url
        self.headers = headers
        self.body = body

    @property
    def ok(self):
        return 200 <= self.status < 300

    def text(self, encoding=None, errors="replace"):
        if encoding is None:
            encoding = "utf-8"
            ctype = self.headers.get("content-type", "")
            if "charset=" in ctype:
                encoding = ctype.split("charset=", 1)[1].split(";")[0].strip().strip('"') or "utf-8"
        return self.body.decode(encoding, errors)

    def json(self):
        return json.loads(self.body)

    def __repr__(self):
        return f"<accel.Response {self.status} {self.url} ({len(self.body)} bytes)>"


_ERRORS = {
    "TimeoutError": TimeoutError,
    "ValueError": ValueError,
}


def _fetch_error(name, message):
    cls = _ERRORS.get(name)
    if cls is None:
        try:
            import accel

            cls = getattr(accel, "FetchError", ConnectionError)
        except ImportError:
            cls = ConnectionError
    return cls(message)


async def fetch_hook(url, method="GET", headers=None, body=None, timeout=None):
    """accel.set_fetch_hook() target: one request with the Fetch API."""
    loop = asyncio.get_running_loop()
    future = loop.create_future()
    if headers is None:
        header_map = {}
    elif hasattr(headers, "items"):
        header_map = {str(k): str(v) for k, v in headers.items()}
    else:
        header_map = {str(k): str(v) for k, v in headers}
    if isinstance(body, str):
        body = body.encode("utf-8")
    elif body is not None:
        body = bytes(body)

    def done(meta_json, data):
        if future.done():
            return
        meta = json.loads(meta_json)
        if "error" in meta:
            future.set_exception(_fetch_error(meta["error"], f"{url}: {meta.get('message', '')}"))
        else:
            headers_out = {k.lower(): v for k, v in meta.get("headers", {}).items()}
            future.set_result(WebResponse(meta["status"], meta["url"], headers_out, data))

    request_id = _xaccel_web.fetch(
        str(url), method, json.dumps(header_map), body, float(timeout or 0), done
    )
    try:
        return await future
    except asyncio.CancelledError:
        _xaccel_web.fetch_abort(request_id)
        raise
