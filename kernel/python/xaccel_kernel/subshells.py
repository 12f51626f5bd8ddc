"""Kernel subshells (protocol 5.5, JEP 91), native build: a Python thread per
subshell, each with an asyncio loop of its own (kernel/README.md).

The shell channel thread (C++, native/shell_channel.cpp) queues the requests
that name a subshell; the subshell's thread takes them in order, woken by the
queue's eventfd, and answers them as the main shell does, in the same user
namespace and IPython shell. Its loop runs as long as the subshell: a cell's
`await` and the tasks it starts run there. The control thread creates and
deletes subshells through start() and stop().
"""

import asyncio
import collections
import concurrent.futures
import sys
import threading
import time

import _xaccel

from . import comms
from . import parent as parents
from .diagnostics import log

# Requests whose reply is the engine method's result, as in kernel_core.cpp.
_SIMPLE = {
    "complete_request": ("complete", "complete_reply"),
    "inspect_request": ("inspect", "inspect_reply"),
    "is_complete_request": ("is_complete", "is_complete_reply"),
    "history_request": ("history", "history_reply"),
    "comm_info_request": ("comm_info", "comm_info_reply"),
}
_COMMS = ("comm_open", "comm_msg", "comm_close")

_threads = {}
_lock = threading.Lock()


def start(subshell_id):
    """Start the thread of a subshell the registry just created."""
    import _xaccel_subshells

    queue = _xaccel_subshells.queue(subshell_id)
    if queue is None:
        raise KeyError(subshell_id)
    thread = threading.Thread(target=_run, args=(subshell_id, queue), name=f"xaccel-subshell-{subshell_id[:8]}",
                              daemon=True)
    thread.xaccel_subshell = subshell_id
    with _lock:
        _threads[subshell_id] = thread
    thread.start()


def stop(subshell_id):
    """Wait for the thread of a subshell whose queue was closed: it ends once
    its running request is done. (Called on the control thread: polled
    rather than joined, since join() would make `threading` register the
    control thread as a thread of its own.)"""
    with _lock:
        thread = _threads.pop(subshell_id, None)
    while thread is not None and thread.is_alive():
        time.sleep(0.002)


def stop_all(timeout=2.0):
    """At shutdown: close every subshell and give its thread a moment."""
    try:
        import _xaccel_subshells

        _xaccel_subshells.close_all()
    except Exception:  # noqa: BLE001 - no subshells in this build
        return
    with _lock:
        threads = list(_threads.values())
        _threads.clear()
    deadline = time.monotonic() + timeout
    for thread in threads:
        while thread.is_alive() and time.monotonic() < deadline:
            time.sleep(0.002)


def ids():
    """The ids of the kernel's subshells, oldest first."""
    with _lock:
        return list(_threads)


def current():
    """The id of the subshell whose thread calls this, or None (main shell)."""
    return getattr(threading.current_thread(), "xaccel_subshell", None)


def _run(subshell_id, queue):
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    threading.current_thread().xaccel_subshell_loop = loop
    try:
        loop.run_until_complete(_Subshell(subshell_id, queue, loop).serve())
    except BaseException as exc:  # noqa: BLE001 - the kernel goes on
        log(f"xaccel: subshell {subshell_id} ended: {exc!r}")
    finally:
        tasks = [t for t in asyncio.all_tasks(loop) if not t.done()]
        for task in tasks:
            task.cancel()
        if tasks:
            loop.run_until_complete(asyncio.wait(tasks, timeout=2.0))
        loop.close()


async def _on_main_loop(engine, function):
    """Run `function` on the main shell's loop (in the calling context, which
    holds the request as parent) and wait for it."""
    done = concurrent.futures.Future()

    def run():
        try:
            done.set_result(function())
        except BaseException as exc:  # noqa: BLE001 - handed to the caller
            done.set_exception(exc)

    engine.loop.call_soon_threadsafe(run)
    return await asyncio.wrap_future(done)


def _engine():
    from . import engine

    return engine._engine


class _Subshell:
    def __init__(self, subshell_id, queue, loop):
        self.id = subshell_id
        self.queue = queue
        self.loop = loop
        self.closed = False
        self.pending = collections.deque()

    def _take(self):
        requests, closed = self.queue.take()
        self.pending.extend(requests)
        self.closed = self.closed or closed

    async def serve(self):
        woken = asyncio.Event()
        self.loop.add_reader(self.queue.fileno(), woken.set)
        try:
            while _engine() is None:
                # A request can arrive before the main thread has loaded IPython.
                await asyncio.sleep(0.02)
            while True:
                self._take()
                if not self.pending:
                    if self.closed:
                        return
                    woken.clear()
                    await woken.wait()
                    continue
                failed = await self.handle(self.pending.popleft())
                if failed:
                    self._abort_queued_executes()
        finally:
            self.loop.remove_reader(self.queue.fileno())

    def _abort_queued_executes(self):
        """As the main shell: after a failed cell (stop_on_error), the execute
        requests queued on this subshell now are answered `aborted`."""
        self._take()
        kept = collections.deque()
        for request in self.pending:
            if request["header"].get("msg_type") == "execute_request":
                self._publish_status("busy", request)
                import _xaccel_subshells

                _xaccel_subshells.reply(request, "execute_reply", {"status": "aborted"}, {"status": "aborted"})
                self._publish_status("idle", request)
            else:
                kept.append(request)
        self.pending = kept

    @staticmethod
    def _publish_status(state, request):
        _xaccel.publish("status", {"execution_state": state}, None, None, request["header"])

    async def handle(self, request):
        """Answer one request; True if it was a cell that failed and stops
        the queue."""
        import _xaccel_subshells

        engine = _engine()
        msg_type = request["header"].get("msg_type", "")
        parents.set_context_parent(request)
        self._publish_status("busy", request)
        failed = False
        try:
            if msg_type == "execute_request":
                content, failed = await self._execute(engine, request)
                _xaccel_subshells.reply(request, "execute_reply", content)
            elif (engine_free := _xaccel_subshells.engine_free_reply(msg_type)) is not None:
                _xaccel_subshells.reply(request, *engine_free)
            elif msg_type in _COMMS:
                if comms.reply_shell_for(request, self.id) is None:
                    # It answers a message the main shell sent: handled there.
                    await _on_main_loop(engine, lambda: comms.handle(msg_type, request))
                else:
                    comms.handle(msg_type, request)
            elif msg_type in _SIMPLE:
                method, reply_type = _SIMPLE[msg_type]
                _xaccel_subshells.reply(request, reply_type, getattr(engine, method)(request["content"]))
            else:
                log(f"xaccel: subshell {self.id}: unknown message type {msg_type!r}; ignored")
        except Exception as exc:  # noqa: BLE001 - errors become replies
            log(f"xaccel: subshell {self.id}: error handling {msg_type}: {exc!r}")
            if msg_type.endswith("_request"):
                content = {"status": "error", "ename": type(exc).__name__, "evalue": str(exc),
                           "traceback": [f"{type(exc).__name__}: {exc}"]}
                _xaccel_subshells.reply(request, msg_type[: -len("_request")] + "_reply", content)
        finally:
            # Its output leaves before its idle.
            for stream in engine.streams if engine is not None else ():
                stream.flush()
            self._publish_status("idle", request)
        return failed

    async def _execute(self, engine, request):
        shell = engine.shell
        content = request["content"]
        code = content.get("code")
        if not isinstance(code, str):
            return {"status": "error", "ename": "MessageError", "evalue": "execute_request needs a string 'code'",
                    "traceback": []}, False
        silent = bool(content.get("silent", False))
        store_history = bool(content.get("store_history", not silent))
        user_expressions = content.get("user_expressions") or {}
        stop_on_error = content.get("stop_on_error", True)
        count = shell.execution_count
        if not silent:
            _xaccel.publish("execute_input", {"code": code, "execution_count": count}, None, None,
                            request["header"])
        preprocessing_exc_tuple = None
        try:
            transformed_cell = shell.transform_cell(code)
        except Exception:  # noqa: BLE001 - IPython reports it as the cell's error
            transformed_cell = code
            preprocessing_exc_tuple = sys.exc_info()
        result = None
        try:
            # The cell runs on this thread; what it awaits, on this loop.
            result = await shell.run_cell_async(code, store_history=store_history, silent=silent,
                                                transformed_cell=transformed_cell,
                                                preprocessing_exc_tuple=preprocessing_exc_tuple)
        finally:
            shell.events.trigger("post_execute")
            if not silent:
                shell.events.trigger("post_run_cell", result)
        reply = engine._reply(result, count, user_expressions)
        return reply, reply["status"] == "error" and not silent and bool(stop_on_error)
