"""Comms (ipywidgets and other front-end/kernel channels) over the kernel."""

import sys

import comm
from comm.base_comm import BaseComm, CommManager

import _xaccel

from . import parent as parents


class KernelComm(BaseComm):
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


def handle(msg_type, msg):
    handler = {
        "comm_open": _manager.comm_open,
        "comm_msg": _manager.comm_msg,
        "comm_close": _manager.comm_close,
    }[msg_type]
    handler(None, None, msg)
