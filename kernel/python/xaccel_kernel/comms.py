"""Comms (ipywidgets and other front-end/kernel channels) over the kernel."""

import sys
import threading

import comm
from comm.base_comm import BaseComm, CommManager

import _xaccel

from . import parent as parents


def _request_id(data):
    """The id a request sent on a comm carries (ipywidgets' custom messages)."""
    content = data.get("content") if isinstance(data, dict) else None
    if isinstance(content, dict) and isinstance(content.get("id"), str):
        return content["id"]
    return None


class KernelComm(BaseComm):
    def __init__(self, *args, **kwargs):
        # Which shell (None: the main one) sent a request (a message whose
        # content has an "id") on this comm: the front end's answer to it goes
        # back to that shell, as in ipykernel 7.4. Other messages are handled
        # where they arrive (unlike ipykernel, not on the shell that sent on
        # the comm last: a slider moved while the main shell sleeps updates
        # at once on JupyterLab's comm subshell).
        self._sender_lock = threading.Lock()
        self._senders = {}
        super().__init__(*args, **kwargs)

    def reply_shell_for(self, data, default):
        """The subshell id (None: main shell) whose request an incoming
        message of the front end answers; `default` if it answers none."""
        request_id = _request_id(data)
        with self._sender_lock:
            if request_id is not None and request_id in self._senders:
                return self._senders.pop(request_id)
        return default

    @property
    def kernel(self):
        # ipykernel's Comm has it; some libraries check it is not None.
        from IPython import get_ipython

        shell = get_ipython()
        return getattr(shell, "kernel", None)

    def publish_msg(self, msg_type, data=None, metadata=None, buffers=None, **keys):
        sys.stdout.flush()
        sys.stderr.flush()
        content = dict(data=data or {}, comm_id=self.comm_id, **keys)
        request_id = _request_id(data)
        header = parents.header()
        if request_id is not None and header:
            with self._sender_lock:
                self._senders[request_id] = header.get("subshell_id")
        _xaccel.publish(msg_type, content, metadata or {}, buffers, parents.header())


class KernelCommManager(CommManager):
    def info(self, target_name=None):
        comms = {
            comm_id: {"target_name": c.target_name}
            for comm_id, c in self.comms.items()
            if target_name is None or c.target_name == target_name
        }
        return {"status": "ok", "comms": comms}


_manager = KernelCommManager()


def install():
    comm.create_comm = KernelComm
    comm.get_comm_manager = lambda: _manager
    return _manager


def reply_shell_for(msg, default):
    """Where a comm message of the front end must be handled: the subshell id
    (None: the main shell) that sent the message it answers, else `default`."""
    content = msg.get("content")
    comm_id = content.get("comm_id") if isinstance(content, dict) else None
    comm = _manager.comms.get(comm_id) if isinstance(comm_id, str) else None
    if not isinstance(comm, KernelComm):
        return default
    return comm.reply_shell_for(content.get("data"), default)


def handle(msg_type, msg):
    handler = {
        "comm_open": _manager.comm_open,
        "comm_msg": _manager.comm_msg,
        "comm_close": _manager.comm_close,
    }[msg_type]
    handler(None, None, msg)
