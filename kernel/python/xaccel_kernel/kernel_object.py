"""`get_ipython().kernel`: the kernel object that libraries written for
ipykernel use (ipywidgets' Output widget and interact, comm-based widgets,
code that publishes on iopub itself).

It offers the part of ipykernel's Kernel API that such code touches: the
parent request (get_parent/set_parent), `session.send()` and
`send_response()` to the iopub socket, the comm manager and the shell.
Replies on other channels belong to the kernel core and are not offered.
"""

import base64
import sys
import uuid
from datetime import datetime, timezone

import _xaccel

from . import parent as parents


class _Socket:
    """Stands for a kernel socket in session.send(); only iopub can be sent to."""

    def __init__(self, name):
        self.name = name

    def __repr__(self):
        return f"<xaccel {self.name} socket>"


def _json_ready(data):
    """Binary values in content travel as base64 text, as ipykernel's json_clean does."""
    if isinstance(data, dict):
        return {str(k): _json_ready(v) for k, v in data.items()}
    if isinstance(data, (list, tuple)):
        return [_json_ready(v) for v in data]
    if isinstance(data, (bytes, bytearray, memoryview)):
        return base64.b64encode(bytes(data)).decode("ascii")
    if isinstance(data, datetime):
        return data.isoformat()
    return data


def _header_of(message):
    """The header of a parent given as a message, a header, or nothing."""
    if not message:
        return None
    if "header" in message:
        return message["header"] or None
    if "msg_id" in message and "msg_type" in message:
        return message
    return None


class Session:
    """The subset of jupyter_client's Session that kernel-side code uses."""

    def __init__(self, kernel):
        self._kernel = kernel
        self.session = _xaccel.session()
        self.username = "kernel"

    def msg_header(self, msg_type):
        return {
            "msg_id": uuid.uuid4().hex,
            "msg_type": msg_type,
            "username": self.username,
            "session": self.session,
            "date": datetime.now(timezone.utc).isoformat(),
            "version": "5.3",
        }

    def msg(self, msg_type, content=None, parent=None, header=None, metadata=None):
        header = header or self.msg_header(msg_type)
        return {
            "header": header,
            "msg_id": header["msg_id"],
            "msg_type": header["msg_type"],
            "parent_header": _header_of(parent) or {},
            "content": {} if content is None else content,
            "metadata": metadata or {},
        }

    def send(self, stream, msg_or_type, content=None, parent=None, ident=None, buffers=None, track=False,
             header=None, metadata=None):
        """Publish on iopub (the only stream kernel-side code may send to here).

        The parent defaults to the current request, as ipykernel's does
        through the caller's get_parent()."""
        if stream is not self._kernel.iopub_socket:
            raise ValueError(f"xaccel: session.send() can only publish on the iopub socket, not on {stream!r}")
        if isinstance(msg_or_type, dict):
            msg = msg_or_type
            msg_type = msg.get("msg_type") or msg["header"]["msg_type"]
            content = msg.get("content", {}) if content is None else content
            metadata = msg.get("metadata") if metadata is None else metadata
            parent = msg.get("parent_header") if parent is None else parent
        else:
            msg_type = msg_or_type
        # Output written before this message is published before it.
        sys.stdout.flush()
        sys.stderr.flush()
        parent_header = _header_of(parent) or parents.header()
        msg_id = _xaccel.publish(msg_type, _json_ready(content or {}), _json_ready(metadata or {}),
                                 list(buffers) if buffers else None, parent_header)
        return {
            "header": dict(self.msg_header(msg_type), msg_id=msg_id),
            "msg_id": msg_id,
            "msg_type": msg_type,
            "parent_header": parent_header or {},
            "content": content or {},
            "metadata": metadata or {},
        }


class Kernel:
    """What `get_ipython().kernel` is in the xaccel kernel."""

    implementation = "xaccel"

    def __init__(self, shell, comm_manager):
        self.shell = shell
        self.comm_manager = comm_manager
        self.iopub_socket = _Socket("iopub")
        self.session = Session(self)

    # -- the parent request ------------------------------------------------

    def get_parent(self, channel=None):
        """The request being handled in this context (ipykernel >= 6)."""
        return parents.get_parent()

    def set_parent(self, ident, parent_message, channel="shell"):
        parents.set_parent(parent_message)

    @property
    def _parent_header(self):
        # ipykernel < 6 name, still read by some libraries.
        return parents.get_parent()

    # -- publishing --------------------------------------------------------

    def send_response(self, stream, msg_or_type, content=None, ident=None, buffers=None, track=False,
                      header=None, metadata=None, channel=None):
        return self.session.send(stream, msg_or_type, content, parents.get_parent(), ident, buffers, track,
                                 header, metadata)

    @property
    def execution_count(self):
        return self.shell.execution_count

    def __repr__(self):
        return "<xaccel kernel>"
