"""A small Debug Adapter Protocol client over a kernel's control channel, as
JupyterLab's debugger uses it (debug_request / debug_reply / debug_event)."""

import itertools
import queue
import time

TIMEOUT = 60


class DapClient:
    def __init__(self, kc):
        self.kc = kc
        self._seq = itertools.count(1)
        # iopub messages read while looking for something else, in order.
        self._iopub = []

    def request(self, command, arguments=None, timeout=TIMEOUT):
        """Sends a DAP request; returns the debug_reply content."""
        msg = self.kc.session.msg(
            "debug_request",
            {"type": "request", "seq": next(self._seq), "command": command, "arguments": arguments or {}},
        )
        self.kc.control_channel.send(msg)
        return self.control_reply(msg["header"]["msg_id"], timeout)["content"]

    def control_reply(self, msg_id, timeout=TIMEOUT):
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError(f"no control reply to {msg_id} within {timeout} s")
            reply = self.kc.get_control_msg(timeout=remaining)
            if reply["parent_header"].get("msg_id") == msg_id:
                return reply

    def start(self):
        """initialize + attach + configurationDone, as JupyterLab does."""
        reply = self.request("initialize", {
            "clientID": "xaccel-tests", "clientName": "xaccel-tests", "adapterID": "", "pathFormat": "path",
            "linesStartAt1": True, "columnsStartAt1": True, "supportsVariableType": True,
            "supportsVariablePaging": True, "supportsRunInTerminalRequest": True, "locale": "en",
        })
        assert reply["success"], reply
        reply = self.request("attach")
        assert reply["success"], reply
        reply = self.request("configurationDone")
        assert reply["success"], reply

    def stop(self):
        self.request("disconnect", {"restart": False, "terminateDebuggee": True})

    def dump_cell(self, code):
        reply = self.request("dumpCell", {"code": code})
        assert reply["success"], reply
        return reply["body"]["sourcePath"]

    def set_breakpoints(self, path, lines):
        reply = self.request("setBreakpoints", {
            "source": {"path": path}, "breakpoints": [{"line": n} for n in lines], "sourceModified": False})
        assert reply["success"], reply
        return reply["body"]["breakpoints"]

    def next_iopub(self, timeout):
        if self._iopub:
            return self._iopub.pop(0)
        return self.kc.get_iopub_msg(timeout=timeout)

    def wait_event(self, event, timeout=TIMEOUT):
        """The next debug_event named `event` (other iopub messages are kept)."""
        deadline = time.monotonic() + timeout
        skipped = []
        try:
            while True:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise TimeoutError(f"no '{event}' debug_event within {timeout} s")
                try:
                    msg = self.next_iopub(remaining)
                except queue.Empty:
                    continue
                if msg["msg_type"] == "debug_event" and msg["content"].get("event") == event:
                    return msg["content"]
                skipped.append(msg)
        finally:
            self._iopub[:0] = skipped

    def wait_stopped(self, timeout=TIMEOUT):
        """Waits for a 'stopped' event; returns (event body, top frame)."""
        body = self.wait_event("stopped", timeout)["body"]
        return body, self.top_frame(body["threadId"])

    def top_frame(self, thread_id):
        reply = self.request("stackTrace", {"threadId": thread_id})
        assert reply["success"], reply
        return reply["body"]["stackFrames"][0]

    def frames(self, thread_id):
        reply = self.request("stackTrace", {"threadId": thread_id})
        assert reply["success"], reply
        return reply["body"]["stackFrames"]

    def scope_variables(self, frame_id, scope_name):
        reply = self.request("scopes", {"frameId": frame_id})
        assert reply["success"], reply
        scope = next(s for s in reply["body"]["scopes"] if s["name"] == scope_name)
        return self.variables(scope["variablesReference"])

    def variables(self, reference):
        reply = self.request("variables", {"variablesReference": reference})
        assert reply["success"], reply
        return {v["name"]: v for v in reply["body"]["variables"]}

    def continue_(self, thread_id):
        reply = self.request("continue", {"threadId": thread_id})
        assert reply["success"], reply

    def shell_reply(self, msg_id, timeout=TIMEOUT):
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError(f"no shell reply to {msg_id} within {timeout} s")
            reply = self.kc.get_shell_msg(timeout=remaining)
            if reply["parent_header"].get("msg_id") == msg_id:
                return reply["content"]
