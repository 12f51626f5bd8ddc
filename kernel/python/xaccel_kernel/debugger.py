"""JupyterLab's debugger: the Debug Adapter Protocol over the control channel.

The front end sends DAP requests inside `debug_request` messages; the
answers go back as `debug_reply` and debugpy's events are published as
`debug_event`. debugpy runs in this process (pydevd traces the main thread);
its adapter runs as a subprocess, and this module is the adapter's client.

Threads (see kernel/native/control_thread.hpp):
- Everything here runs on the kernel's control thread, called from C++ with
  the GIL, except the two functions marked "main thread". While user code
  is stopped at a breakpoint the main thread waits inside pydevd (without the
  GIL), and pydevd serves stackTrace/variables/evaluate from there, so this
  thread never needs the main thread after the session has started.
- Socket waits release the GIL.

No cost without a session: nothing of this module is imported until the first
debug_request.
"""

import json
import os
import re
import socket
import sys
import threading
import time

from . import cells, interrupts

_HOST = "127.0.0.1"
_START_TIMEOUT = 60.0  # debugpy.listen() spawns the adapter: slow on a busy machine
_REPLY_TIMEOUT = 30.0

# Names that the variables panel leaves out (IPython's and the kernel's own).
_HIDDEN_NAMES = {
    "__name__", "__doc__", "__package__", "__loader__", "__spec__", "__annotations__",
    "__builtins__", "__builtin__", "__display__", "get_ipython", "debugpy", "exit", "quit",
    "In", "Out", "_oh", "_dh", "_", "__", "___", "accel",
}
_HIDDEN_PATTERN = re.compile(r"^_(\d|i)")


def _visible(name):
    return name not in _HIDDEN_NAMES and not _HIDDEN_PATTERN.match(name)


def _response(request, success=True, body=None, message=None):
    reply = {
        "type": "response",
        "seq": request.get("seq", 0),
        "request_seq": request.get("seq", 0),
        "command": request.get("command", ""),
        "success": success,
    }
    if body is not None:
        reply["body"] = body
    if message is not None:
        reply["message"] = message
    return reply


def _publish_event(event):
    import _xaccel_control

    _xaccel_control.publish_debug_event(event)


class AdapterConnection:
    """A DAP connection to debugpy's adapter (Content-Length framed JSON)."""

    def __init__(self, host, port):
        self.sock = socket.create_connection((host, port), timeout=_START_TIMEOUT)
        self.sock.settimeout(None)
        self._buffer = b""
        self._messages = []

    def fileno(self):
        return self.sock.fileno()

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass

    def send(self, message):
        body = json.dumps(message, ensure_ascii=False).encode("utf-8")
        self.sock.sendall(b"Content-Length: %d\r\n\r\n" % len(body) + body)

    def _parse(self):
        messages = []
        while True:
            end = self._buffer.find(b"\r\n\r\n")
            if end < 0:
                return messages
            length = None
            for line in self._buffer[:end].split(b"\r\n"):
                name, _, value = line.partition(b":")
                if name.strip().lower() == b"content-length":
                    length = int(value.strip())
            if length is None:
                raise ConnectionError("DAP message without Content-Length")
            start = end + 4
            if len(self._buffer) - start < length:
                return messages
            messages.append(json.loads(self._buffer[start:start + length].decode("utf-8")))
            self._buffer = self._buffer[start + length:]

    def next_message(self, timeout):
        """The next message, waiting up to `timeout` seconds (0: only what is
        already here); None if none came."""
        while not self._messages:
            self.sock.settimeout(timeout)
            try:
                data = self.sock.recv(1 << 16)
            except (BlockingIOError, socket.timeout):
                return None
            finally:
                self.sock.settimeout(None)
            if not data:
                raise ConnectionError("debugpy's adapter closed the connection")
            self._buffer += data
            self._messages.extend(self._parse())
        return self._messages.pop(0)


class ControlSide:
    """The debugger state kept by the control thread."""

    def __init__(self):
        self.connection = None
        self.listening = None  # debugpy's (host, port) for clients, once listen() ran
        self.started = False
        self.breakpoints = {}
        self.stopped_threads = set()
        self._pending_events = []
        self._removed_cleanup = {}

    # ---- called by the C++ control thread ---------------------------------

    def adapter_fd(self):
        return self.connection.fileno() if self.connection is not None else -1

    def session_active(self):
        return self.started

    def on_adapter_readable(self):
        if self.connection is None:
            return
        try:
            self._drain()
        except ConnectionError:
            self._end_session()
        self._flush_events()

    def release(self):
        """Resume stopped code and end the session (before a shutdown)."""
        if self.started:
            try:
                self._forward({"type": "request", "seq": 0, "command": "disconnect",
                               "arguments": {"restart": False, "terminateDebuggee": False}})
            except (ConnectionError, TimeoutError, OSError):
                pass
            self._end_session()

    def handle_request(self, request):
        command = request.get("command")
        try:
            if command == "initialize":
                if not self.started:
                    self._start()
                return self._forward(request)
            static = self._static_handlers.get(command)
            if static is not None:
                return static(self, request)
            if not self.started:
                return _response(request, False, message="the debugger is not started: send 'initialize' first")
            handler = self._session_handlers.get(command)
            reply = handler(self, request) if handler is not None else self._forward(request)
            if command == "disconnect":
                self._end_session()
            return reply
        finally:
            if self.connection is not None:
                # What came with the response but after it (the socket will
                # not wake the control thread for it again).
                self._drain()
            self._flush_events()

    # ---- the session -----------------------------------------------------

    def _start(self):
        os.makedirs(cells.cell_directory(), mode=0o700, exist_ok=True)
        if self.listening is None:
            self.listening = _run_on_main(_listen_on_main, _START_TIMEOUT)
        self.connection = AdapterConnection(*self.listening)
        # Line numbers must match the editor: keep a cell's leading blank lines.
        from IPython.core.inputtransformer2 import leading_empty_lines

        transforms = _shell().input_transformer_manager.cleanup_transforms
        if leading_empty_lines in transforms:
            index = transforms.index(leading_empty_lines)
            self._removed_cleanup[index] = transforms.pop(index)
        self.started = True

    def _end_session(self):
        if self.connection is not None:
            self.connection.close()
            self.connection = None
        transforms = _shell().input_transformer_manager.cleanup_transforms
        for index in sorted(self._removed_cleanup):
            transforms.insert(index, self._removed_cleanup.pop(index))
        self.started = False
        self.breakpoints = {}
        self.stopped_threads = set()

    def _forward(self, request, response_timeout=_REPLY_TIMEOUT):
        """Sends `request` to debugpy and returns its response; events that
        arrive meanwhile are handled in order."""
        self.connection.send(request)
        return self._wait_response(request, response_timeout)

    def _wait_response(self, request, timeout):
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError(f"debugpy did not answer {request.get('command')!r} within {timeout} s")
            message = self.connection.next_message(remaining)
            if message is None:
                continue
            if (message.get("type") == "response" and message.get("request_seq") == request.get("seq")
                    and message.get("command") == request.get("command")):
                return message
            self._dispatch(message)

    def _drain(self):
        while True:
            message = self.connection.next_message(0)
            if message is None:
                return
            self._dispatch(message)

    def _dispatch(self, message):
        if message.get("type") != "event":
            return  # a late response to a request that timed out
        event = message.get("event")
        body = message.get("body") or {}
        # Queued first: published in the order debugpy sent them.
        self._pending_events.append(message)
        if event == "stopped":
            if body.get("allThreadsStopped"):
                self.stopped_threads |= self._thread_ids()
            elif "threadId" in body:
                self.stopped_threads.add(body["threadId"])
        elif event == "continued":
            if body.get("allThreadsContinued", True):
                self.stopped_threads = set()
            else:
                self.stopped_threads.discard(body.get("threadId"))

    def _thread_ids(self):
        reply = self._forward({"type": "request", "seq": 0, "command": "threads"})
        return {t["id"] for t in (reply.get("body") or {}).get("threads", [])}

    def _flush_events(self):
        events, self._pending_events = self._pending_events, []
        for event in events:
            _publish_event(event)

    # ---- requests answered by the kernel itself ----------------------------

    def _debug_info(self, request):
        return _response(request, body={
            "isStarted": self.started,
            "hashMethod": "Murmur2",
            "hashSeed": cells.HASH_SEED,
            "tmpFilePrefix": cells.cell_directory() + os.sep,
            "tmpFileSuffix": cells.FILE_SUFFIX,
            "breakpoints": [{"source": path, "breakpoints": lines} for path, lines in self.breakpoints.items()],
            "stoppedThreads": sorted(self.stopped_threads),
            "richRendering": True,
            "exceptionPaths": ["Python Exceptions"],
            "copyToGlobals": True,
        })

    def _dump_cell(self, request):
        code = request["arguments"]["code"]
        path = cells.cell_file_name(code)
        with open(path, "w", encoding="utf-8") as f:
            f.write(code)
        return _response(request, body={"sourcePath": path})

    def _set_breakpoints(self, request):
        path = request["arguments"]["source"]["path"]
        reply = self._forward(request)
        if reply.get("success"):
            # debugpy may move a breakpoint to another line: keep its lines.
            self.breakpoints[path] = [{"line": b["line"]} for b in reply["body"].get("breakpoints", []) if "line" in b]
        return reply

    def _source(self, request):
        path = request["arguments"]["source"].get("path", "")
        try:
            with open(path, encoding="utf-8") as f:
                return _response(request, body={"content": f.read()})
        except OSError:
            return _response(request, False, body={}, message="source unavailable")

    def _attach(self, request):
        request["arguments"]["connect"] = {"host": self.listening[0], "port": self.listening[1]}
        request["arguments"]["logToFile"] = False
        # The kernel's own code is never stepped into nor shown.
        request["arguments"]["rules"] = [{"path": os.path.dirname(__file__), "include": False}]
        self.connection.send(request)
        # debugpy answers an attach only after the configuration sequence:
        # 'initialized', then configurationDone, which the kernel sends itself.
        deadline = time.monotonic() + _REPLY_TIMEOUT
        seq = None
        while seq is None:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError("debugpy sent no 'initialized' event after attach")
            message = self.connection.next_message(remaining)
            if message is None:
                continue
            if message.get("type") == "event" and message.get("event") == "initialized":
                seq = message.get("seq", 0)
            self._dispatch(message)
        done = {"type": "request", "seq": seq + 1, "command": "configurationDone"}
        self._forward(done)
        return self._wait_response(request, _REPLY_TIMEOUT)

    def _configuration_done(self, request):
        # Sent to debugpy already, at attach.
        return _response(request)

    def _variables(self, request):
        if not self.stopped_threads:
            return _response(request, body={"variables": _global_variables(request["arguments"].get("variablesReference"))})
        reply = self._forward(request)
        if reply.get("success"):
            reply["body"]["variables"] = [v for v in reply["body"].get("variables", []) if _visible(v["name"])]
        return reply

    def _inspect_variables(self, request):
        return _response(request, body={"variables": _global_variables(None)})

    def _rich_inspect_variables(self, request):
        name = request["arguments"].get("variableName", "")
        if not name.isidentifier():
            ok = name in ("special variables", "function variables")
            return _response(request, ok, body={"data": {}, "metadata": {}})
        data, metadata = {}, {}
        if not self.stopped_threads:
            result = _shell().user_expressions({name: name})[name]
            if result.get("status") == "ok":
                data, metadata = result.get("data", {}), result.get("metadata", {})
        else:
            reply = self._forward({
                "type": "request", "seq": request["seq"] + 1, "command": "evaluate",
                "arguments": {"expression": f"get_ipython().display_formatter.format({name})",
                              "frameId": request["arguments"].get("frameId"), "context": "clipboard"},
            })
            if reply.get("success"):
                import ast

                data, metadata = ast.literal_eval(reply["body"]["result"])
        return _response(request, body={"data": data, "metadata": {k: v for k, v in metadata.items() if k in data}})

    def _copy_to_globals(self, request):
        arguments = request["arguments"]
        source, target = arguments.get("srcVariableName", ""), arguments.get("dstVariableName", "")
        if not (source.isidentifier() and target.isidentifier()):
            return _response(request, False, message="dstVariableName and srcVariableName must be identifiers")
        if not self.started:
            return _response(request, False, message="the debugger is not started")
        return self._forward({
            "type": "request", "seq": request["seq"] + 1, "command": "setExpression",
            "arguments": {"expression": f"globals()['{target}']", "value": source,
                          "frameId": arguments.get("srcFrameId")},
        })

    def _modules(self, request):
        arguments = request.get("arguments") or {}
        modules = list(sys.modules.values())
        start = arguments.get("startModule", 0)
        count = arguments.get("moduleCount", len(modules))
        found = []
        for index, module in enumerate(modules[start:start + count], start):
            path = getattr(getattr(module, "__spec__", None), "origin", None)
            if path and path.endswith(".py"):
                found.append({"id": index, "name": module.__name__, "path": path})
        return _response(request, body={"modules": found, "totalModules": len(modules)})

    _static_handlers = {
        "debugInfo": _debug_info,
        "inspectVariables": _inspect_variables,
        "richInspectVariables": _rich_inspect_variables,
        "modules": _modules,
        "copyToGlobals": _copy_to_globals,
    }
    _session_handlers = {
        "dumpCell": _dump_cell,
        "setBreakpoints": _set_breakpoints,
        "source": _source,
        "attach": _attach,
        "configurationDone": _configuration_done,
        "variables": _variables,
    }


def _shell():
    from IPython.core.getipython import get_ipython

    return get_ipython()


# The user's globals, listed as pydevd lists a frame's variables (the
# variables panel while no code is stopped). References stay valid until
# the next inspectVariables.
_globals_tracker = None


def _global_variables(reference):
    global _globals_tracker
    from _pydevd_bundle import pydevd_frame_utils
    from _pydevd_bundle.pydevd_api import PyDevdAPI
    from _pydevd_bundle.pydevd_suspended_frames import SuspendedFramesManager, _FramesTracker

    if reference is None or _globals_tracker is None:
        if _globals_tracker is not None:
            _globals_tracker[1].untrack_all()

        class _PyDB:
            variable_presentation = PyDevdAPI.VariablePresentation()

        class _Code:
            co_filename = cells.cell_file_name("sys._getframe()")
            co_name = "<module>"

        class _Frame:
            f_back = None
            f_code = _Code()

        frame = _Frame()
        frame.f_globals = frame.f_locals = _shell().user_ns
        manager = SuspendedFramesManager()
        tracker = _FramesTracker(manager, _PyDB())
        tracker.track("xaccel-globals", pydevd_frame_utils.create_frames_list_from_frame(frame))
        _globals_tracker = (manager, tracker, id(frame))
    manager, _, frame_id = _globals_tracker
    variable = manager.get_variable(reference or frame_id)
    return [v.get_var_data() for v in variable.get_children_variables() if _visible(v.get_name())]


_control_side = None
# Whether _resume_main_thread runs on interrupts (once debugpy was started).
_resume_hooked = False


def control_side():
    global _control_side
    if _control_side is None:
        _control_side = ControlSide()
    return _control_side


# ---- main thread ------------------------------------------------------------

def _run_on_main(function, timeout):
    """Runs `function` on the kernel's main thread (as a loop callback) and
    waits for it here, without the GIL."""
    from . import engine

    deadline = time.monotonic() + timeout
    while engine._engine is None:
        if time.monotonic() > deadline:
            raise TimeoutError("the kernel's engine did not start")
        time.sleep(0.05)
    done = threading.Event()
    outcome = {}

    def job():
        try:
            outcome["result"] = function()
        except BaseException as exc:  # noqa: BLE001 - handed to the control thread
            outcome["error"] = exc
        finally:
            done.set()

    engine._engine.loop.call_soon_threadsafe(job)
    if not done.wait(timeout):
        raise TimeoutError("the kernel's main thread is busy: the debugger could not start")
    if "error" in outcome:
        raise outcome["error"]
    return outcome["result"]


def _listen_on_main():
    """Main thread: start debugpy (pydevd traces this thread from now on)."""
    import debugpy

    # In this embedded interpreter sys.executable is the kernel binary: the
    # adapter needs a real Python of the same environment.
    python = os.path.join(sys.prefix, "bin", "python3")
    if not os.path.exists(python):
        import shutil

        python = shutil.which("python3") or python
    debugpy.configure(python=python, subProcess=False)
    host, port = debugpy.listen((_HOST, 0))
    # pydevd ends the session when it sees no live non-daemon thread, a check
    # meant for scripts. In the kernel it sometimes sees the embedded main
    # thread as a daemon dummy thread and drops a working session (seen in
    # about 1 session in 15 on a loaded machine); the kernel's main thread
    # lives as long as the process, so the session ends on disconnect only.
    from pydevd import get_global_debugger

    get_global_debugger().has_user_threads_alive = lambda: True
    _hide_kernel_threads()
    global _resume_hooked
    if not _resume_hooked:
        _resume_hooked = True
        interrupts.first_on_interrupt(_resume_main_thread)
    _shell().events.register("post_run_cell", _retrace_main_thread)
    return host, port


def _hide_kernel_threads():
    history = getattr(_shell().history_manager, "save_thread", None)
    if history is not None:
        history.pydev_do_not_trace = True
        history.is_pydev_daemon_thread = True


def _resume_main_thread():
    """Main thread, first on an interrupt: a thread stopped at a breakpoint is
    resumed (so debugpy and the front end see it running again); the kernel
    then raises KeyboardInterrupt where it does without a debugger
    (interrupts.py). A hook rather than a SIGINT handler: the kernel's
    handler stays the one that decides, and user code cannot replace it."""
    info = getattr(threading.main_thread(), "additional_info", None)
    if info is None:
        return
    from _pydevd_bundle.pydevd_constants import STATE_RUN, STATE_SUSPEND

    if info.pydev_state == STATE_SUSPEND:
        info.pydev_original_step_cmd = -1
        info.pydev_step_cmd = -1
        info.pydev_step_stop = None
        info.pydev_state = STATE_RUN


def _retrace_main_thread(result=None):
    """Main thread, after each cell: an exception raised inside pydevd's trace
    function (an interrupt while stopped) makes Python drop the trace function
    of the thread; put it back."""
    if sys.gettrace() is None and _control_side is not None and _control_side.started:
        import debugpy

        debugpy.trace_this_thread(True)
