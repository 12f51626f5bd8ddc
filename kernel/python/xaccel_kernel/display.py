"""Display output of the kernel: display_data, execute_result, clear_output."""

import base64
import sys

from IPython.core.displayhook import DisplayHook
from IPython.core.displaypub import DisplayPublisher

import _xaccel

from . import parent as parents


def _flush_streams():
    sys.stdout.flush()
    sys.stderr.flush()


def encode_data(data):
    """Binary values (PNG and JPEG from _repr_png_ ...) travel as base64 text."""
    encoded = {}
    for mime, value in data.items():
        if isinstance(value, (bytes, bytearray, memoryview)):
            value = base64.b64encode(bytes(value)).decode("ascii")
        encoded[mime] = value
    return encoded


class KernelDisplayPublisher(DisplayPublisher):
    """display() and friends: one display_data message per call."""

    def publish(self, data, metadata=None, source=None, *, transient=None, update=False, **kwargs):
        _flush_streams()
        content = {
            "data": encode_data(data),
            "metadata": metadata or {},
            "transient": transient or {},
        }
        _xaccel.publish("update_display_data" if update else "display_data", content, None, None, parents.header())

    def clear_output(self, wait=False):
        _flush_streams()
        _xaccel.publish("clear_output", {"wait": bool(wait)}, None, None, parents.header())


class KernelDisplayHook(DisplayHook):
    """The value of a cell's last expression, as execute_result."""

    # Set for every cell (exec_result) and every result (pending): plain
    # attributes, as in shell.py.
    exec_result = None
    pending = None

    def start_displayhook(self):
        self.pending = {"data": {}, "metadata": {}}

    def write_output_prompt(self):
        self.pending["execution_count"] = self.prompt_count

    def write_format_data(self, format_dict, md_dict=None):
        self.pending["data"] = encode_data(format_dict)
        self.pending["metadata"] = md_dict or {}

    def finish_displayhook(self):
        _flush_streams()
        content, self.pending = self.pending, None
        if content and content["data"]:
            content.setdefault("execution_count", self.prompt_count)
            _xaccel.publish("execute_result", content, None, None, parents.header())
