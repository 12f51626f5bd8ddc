"""The engine the C++ core calls for every request, and the kernel's main loop."""

import asyncio
import atexit
import builtins
import contextvars
import getpass
import os
import sys

from . import comms, interrupts

# --- browser (JupyterLite) build: see webloop.py --------------------------
IN_BROWSER = sys.platform == "emscripten"
if IN_BROWSER:
    from . import webloop as kernel_loop
    from . import websource

    websource.install()  # stdlib sources for tracebacks and inspect, fetched on demand
    from . import webrun

    webrun.install()  # asyncio.run(): a clear error that names `await`
else:
    from . import loop as kernel_loop
# ---------------------------------------------------------------------------
from . import parent as parents
from .cell_context import KernelContext
from .kernel_object import Kernel
from .stdin import StdinBridge
from .diagnostics import log
from .streams import make_streams
from .sys_path import add_working_directory
from .task_errors import TaskErrorReporter

import _xaccel

_engine = None


class Engine:
    def __init__(self):
        global _engine
        if IN_BROWSER:
            self.loop = kernel_loop.WebLoop()
            self.loop.attach_to_thread()
        else:
            self.loop = kernel_loop.KernelEventLoop()
            self.loop.attach_to_thread()
            kernel_loop.install_asyncio_patches()

        self.streams = make_streams(self.loop)
        sys.stdout, sys.stderr = self.streams
        add_working_directory()
        self.fd_capture = None
        if not IN_BROWSER and os.environ.get("XACCEL_CAPTURE_FD", "1") != "0":
            from .fd_capture import FdCaptures

            self.fd_capture = FdCaptures(sys.stdout, sys.stderr)
        # matplotlib draws inline unless the user chose otherwise.
        os.environ.setdefault("MPLBACKEND", "module://matplotlib_inline.backend_inline")

        from .shell import XAccelShell

        from traitlets.config import Config

        config = Config()
        # History goes to SQLite in batches (and at exit, and before every
        # history_request) instead of once per cell: a write per cell costs
        # more than running a small cell.
        config.HistoryManager.db_cache_size = 20
        if IN_BROWSER:
            # The worker's files are lost at reload anyway; a database in memory
            # keeps no file open, so the started kernel's memory can be copied
            # and restored on the next load (kernel/lite/start_snapshot.hpp).
            config.HistoryManager.hist_file = ":memory:"
        profile = None
        if not IN_BROWSER:
            # The user's IPython profile, as ipykernel reads it (the browser
            # build has none: its files are the worker's, new on every load).
            from .profile import KernelProfile

            profile = KernelProfile()
            config = profile.load(config)
        shell_options = {"profile_dir": profile.profile_dir} if profile is not None else {}
        self.shell = XAccelShell.instance(config=config, **shell_options)
        runner = _LoopRunner(_browser_loop_runner if IN_BROWSER else self._run_awaiting_cell)
        self.shell.loop_runner = runner
        # `%autoawait asyncio` (as written for ipykernel) keeps the kernel's
        # loop rather than IPython's runner with a loop of its own.
        self.shell.loop_runner_map = {**self.shell.loop_runner_map, "asyncio": (runner, True)}
        self.shell.autoawait = True
        self.loop.on_interrupt = lambda: setattr(self.shell, "interrupted", True)
        if IN_BROWSER:
            from . import webinterrupt

            webinterrupt.install(self.loop)
            # IPython's %pip runs pip in a subprocess; the browser has its own.
            self.shell.register_magic_function(_browser_pip, "line", "pip")
        self.tasks = TaskErrorReporter(self.shell)
        self.loop.set_task_factory(self.tasks.task_factory)
        self.loop.set_exception_handler(self._loop_exception)

        self.stdin = StdinBridge()
        builtins.input = self.stdin.input
        getpass.getpass = self.stdin.getpass
        self.comm_manager = comms.install()
        self.shell.kernel = Kernel(self.shell, self.comm_manager)
        self._preload_accel()
        # `xaccel`: the kernel's helpers for users (user_api.py).
        from . import user_api

        sys.modules.setdefault("xaccel", user_api)
        self.shell.user_ns["xaccel"] = self.shell.user_ns_hidden["xaccel"] = user_api
        # Context variables of the cells, kept from request to request.
        self.context = KernelContext()
        _engine = self
        if profile is not None:
            # Extensions, startup files and exec_lines run in the user's
            # namespace once the kernel is complete.
            profile.run(self.shell)

    def _preload_accel(self):
        try:
            import accel
        except ImportError:
            return
        if IN_BROWSER:
            accel.set_fetch_hook(kernel_loop.fetch_hook)
        self.shell.user_ns["accel"] = accel
        self.shell.user_ns_hidden["accel"] = accel

    def _loop_exception(self, loop, context):
        message = context.get("message", "Unhandled error in the event loop")
        exc = context.get("exception")
        if exc is not None:
            import traceback

            message += "\n" + "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
        sys.stderr.write(message.rstrip("\n") + "\n")

    # ---- requests -------------------------------------------------------

    def before_request(self, parent):
        """A shell request starts: its context and parent are set up."""
        self.context.restore()
        parents.set_parent(parent)
        # After the parent: its warning belongs to this request.
        self._restore_broken_streams()

    def after_request(self):
        """A shell request was handled: its output leaves before its idle."""
        self._flush_streams()
        self.context.save()

    def enter_beside_cell(self, parent):
        """A request is handled while a cell awaits: it is the parent of its
        own output; the cell's context is left as it is."""
        return parents.enter(parent)

    def leave_beside_cell(self, entered):
        self._flush_streams()
        parents.leave(entered)

    def _run_awaiting_cell(self, coro):
        return self.context.run_awaiting_cell(self.loop, coro, self.loop.drive)

    def next_execution_count(self):
        return self.shell.execution_count

    def execute(self, code, silent, store_history, user_expressions, allow_stdin, stop_on_error):
        shell = self.shell
        count = shell.execution_count
        shell.last_error = None
        shell.interrupted = False
        self.stdin.allowed = allow_stdin
        if IN_BROWSER:
            deferred = self._execute_in_browser(code, silent, store_history, user_expressions, count)
            if deferred:
                return None  # the reply follows through _xaccel.finish_execute()
        try:
            with interrupts.cell(_xaccel.parent_header):
                result = shell.run_cell(code, store_history=store_history, silent=silent)
        finally:
            self._flush_streams()
        return self._reply(result, count, user_expressions)

    def _flush_streams(self):
        # Twice per request, and nearly always nothing waits: one check
        # instead of each stream's locks and pipe polls.
        capture = self.fd_capture
        if not (self.streams[0].has_pending() or self.streams[1].has_pending()
                or (capture is not None and capture.has_data())):
            return
        for stream in self.streams:
            stream.flush()

    def _restore_broken_streams(self):
        """A cell may set sys.stdout to None or to an object without write():
        the kernel's stream comes back before the next request (otherwise
        every later print fails), with one warning."""
        for name, stream in zip(("stdout", "stderr"), self.streams):
            current = getattr(sys, name)
            if current is stream or callable(getattr(current, "write", None)):
                continue
            setattr(sys, name, stream)
            self.streams[1].write(
                f"xaccel: sys.{name} was replaced by {type(current).__name__!s}, which has no write(); "
                f"the kernel restored its own sys.{name}.\n"
            )

    def _execute_in_browser(self, code, silent, store_history, user_expressions, count):
        """A cell that awaits runs as a task on the browser loop; its reply
        (and the kernel's idle status) is sent when it finishes. Returns False
        for a cell without top-level await, which runs synchronously."""
        shell = self.shell
        preprocessing_exc_tuple = None
        try:
            transformed_cell = shell.transform_cell(code)
        except Exception:
            transformed_cell = code
            preprocessing_exc_tuple = sys.exc_info()
        if not shell.should_run_async(code, transformed_cell=transformed_cell,
                                      preprocessing_exc_tuple=preprocessing_exc_tuple):
            return False

        async def run_cell():
            result = None
            try:
                result = await shell.run_cell_async(
                    code, store_history=store_history, silent=silent,
                    transformed_cell=transformed_cell, preprocessing_exc_tuple=preprocessing_exc_tuple)
            finally:
                shell.events.trigger("post_execute")
                if not silent:
                    shell.events.trigger("post_run_cell", result)
            return result

        def finished(task):
            self.context.save(cell_context)
            self._flush_streams()
            if task.cancelled():
                reply = {"status": "error", "ename": "CancelledError", "evalue": "", "traceback": [],
                         "execution_count": count, "user_expressions": {}, "payload": []}
            elif task.exception() is not None:
                exc = task.exception()
                reply = {"status": "error", "ename": type(exc).__name__, "evalue": str(exc), "traceback": [],
                         "execution_count": count, "user_expressions": {}, "payload": []}
            else:
                reply = self._reply(task.result(), count, user_expressions)
            _xaccel.finish_execute(reply)

        # Its context is kept for the next cells (see cell_context.py).
        cell_context = contextvars.copy_context()
        from . import webinterrupt

        task = self.loop.create_task(webinterrupt.armed(run_cell()), context=cell_context)
        webinterrupt.cell_task(task)
        task.add_done_callback(finished)
        return True

    def _reply(self, result, count, user_expressions):
        shell = self.shell
        if result.success:
            reply = {"status": "ok"}
        else:
            error = shell.last_error or {
                "ename": type(result.error_in_exec or result.error_before_exec).__name__,
                "evalue": str(result.error_in_exec or result.error_before_exec),
                "traceback": [],
            }
            reply = {"status": "error", **error}
        reply["execution_count"] = count
        if reply["status"] == "ok" and user_expressions:
            reply["user_expressions"] = shell.user_expressions(user_expressions)
        else:
            reply["user_expressions"] = {}
        # Nearly every cell leaves no payload: clearing it anyway costs a
        # trait assignment (validation and change notification) per cell.
        payload = shell.payload_manager.read_payload()
        if payload:
            shell.payload_manager.clear_payload()
        reply["payload"] = payload or []
        return reply

    def complete(self, content):
        from IPython.core.completer import provisionalcompleter, rectify_completions

        code = content.get("code", "")
        cursor_pos = content.get("cursor_pos")
        if cursor_pos is None:
            cursor_pos = len(code)
        with provisionalcompleter():
            completions = list(rectify_completions(code, self.shell.Completer.completions(code, cursor_pos)))
        if completions:
            start, end = completions[0].start, completions[0].end
        else:
            start = end = cursor_pos
        types = [
            {"start": c.start, "end": c.end, "text": c.text, "type": c.type, "signature": c.signature}
            for c in completions
        ]
        return {
            "status": "ok",
            "matches": [c.text for c in completions],
            "cursor_start": start,
            "cursor_end": end,
            "metadata": {"_jupyter_types_experimental": types},
        }

    def inspect(self, content):
        from IPython.utils.tokenutil import token_at_cursor

        code = content.get("code", "")
        cursor_pos = content.get("cursor_pos", len(code))
        name = token_at_cursor(code, cursor_pos)
        try:
            data = dict(self.shell.object_inspect_mime(
                name, detail_level=content.get("detail_level", 0),
                omit_sections=set(content.get("omit_sections", []))))
            found = True
        except KeyError:
            data, found = {}, False
        if not self.shell.enable_html_pager:
            # As ipykernel: IPython's compact text, not its HTML page.
            data.pop("text/html", None)
        return {"status": "ok", "found": found, "data": data, "metadata": {}}

    def is_complete(self, content):
        status, indent = self.shell.input_transformer_manager.check_complete(content.get("code", ""))
        reply = {"status": status}
        if status == "incomplete":
            reply["indent"] = " " * (indent or 0)
        return reply

    def history(self, content):
        manager = self.shell.history_manager
        manager.writeout_cache()
        access = content.get("hist_access_type", "tail")
        raw = content.get("raw", True)
        output = content.get("output", False)
        if access == "tail":
            entries = manager.get_tail(content.get("n", 10), raw=raw, output=output, include_latest=True)
        elif access == "range":
            entries = manager.get_range(
                content.get("session", 0), content.get("start", 0), content.get("stop", None), raw=raw, output=output
            )
        elif access == "search":
            entries = manager.search(
                content.get("pattern", "*"), raw=raw, output=output, n=content.get("n"), unique=content.get("unique", False)
            )
        else:
            return {"status": "error", "ename": "ValueError", "evalue": f"unknown hist_access_type {access!r}",
                    "traceback": [], "history": []}
        # IPython numbers the running session 0 in ranges; clients want its real number.
        session = manager.session_number
        return {"status": "ok", "history": [[s or session, line, text] for s, line, text in entries]}

    def comm_info(self, content):
        return self.comm_manager.info(content.get("target_name"))

    def comm_message(self, msg_type, msg):
        with interrupts.user_code():
            comms.handle(msg_type, msg)

    def shutdown(self, restart):
        """Cancel the tasks, let them finish cancelling, save history."""
        if not IN_BROWSER:
            from . import subshells

            subshells.stop_all()
        loop = self.loop
        tasks = [t for t in asyncio.all_tasks(loop) if not t.done()]
        for task in tasks:
            task.cancel()
        if tasks:
            try:
                loop.drive(asyncio.wait(tasks, timeout=2.0))
            except BaseException as exc:  # noqa: BLE001 - shutting down regardless
                log(f"xaccel: while cancelling tasks at shutdown: {exc!r}")
        try:
            loop.drive(loop.shutdown_asyncgens())
        except BaseException:  # noqa: BLE001
            pass
        # Run now, while the streams still reach the client, and only once.
        atexit.unregister(self.shell.atexit_operations)
        self.shell.atexit_operations()
        self._flush_streams()
        if self.fd_capture is not None:
            self.fd_capture.stop()
        sys.stdout, sys.stderr = sys.__stdout__, sys.__stderr__


class _LoopRunner:
    """How IPython runs a cell with top-level await (its `loop_runner`): on
    the kernel's own asyncio loop. `%autoawait` calls it "asyncio", as
    ipykernel's."""

    def __init__(self, run):
        self._run = run

    def __call__(self, coro):
        return self._run(coro)

    def __repr__(self):
        return "asyncio"


def _browser_pip(line):
    """%pip in the browser: install pure-Python wheels from the site's wheel index or a URL."""
    # webpip's imports (zipfile, email, importlib.metadata: 46 modules) would
    # slow every page load; they wait for the first %pip.
    from . import webpip

    return webpip.pip_magic(line)


def _browser_loop_runner(coro):
    coro.close()
    raise RuntimeError("in the browser, awaiting code runs only at the top level of a cell")


def serve_forever():
    """The kernel's main loop: one wait, then messages or loop callbacks."""
    engine = _engine
    loop = engine.loop
    while not _xaccel.stop_requested():
        try:
            loop.step(accept_shell=True)
        except KeyboardInterrupt:
            # Nothing runs while idle; an interrupt then has nothing to stop.
            pass
        except Exception as exc:  # noqa: BLE001 - the kernel must stay alive
            log(f"xaccel: error in the event loop: {exc!r}")
