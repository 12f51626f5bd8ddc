"""The parts of ipykernel 7.4.0's tests/utils.py that its test_debugger.py uses,
starting the xaccel kernel (XACCEL_TEST_KERNEL, default "xaccel") instead of
the default python3 kernel. Otherwise unchanged."""

# Copyright (c) IPython Development Team.
# Distributed under the terms of the Modified BSD License (LICENSE-ipykernel).
from __future__ import annotations

import os
from subprocess import STDOUT
from time import time

from jupyter_client import manager

STARTUP_TIMEOUT = 60
TIMEOUT = 100

KERNEL_NAME = os.environ.get("XACCEL_TEST_KERNEL", "xaccel")


def get_reply(kc, msg_id, timeout=TIMEOUT, channel="shell"):
    t0 = time()
    while True:
        get_msg = getattr(kc, f"get_{channel}_msg")
        reply = get_msg(timeout=timeout)
        if reply["parent_header"]["msg_id"] == msg_id:
            break
        # Allow debugging ignored replies
        print(f"Ignoring reply not to {msg_id}: {reply}")
        t1 = time()
        timeout -= t1 - t0
        t0 = t1
    return reply


def get_replies(kc, msg_ids: list[str], timeout=TIMEOUT, channel="shell"):
    # Get replies which may arrive in any order as they may be running on different subshells.
    # Replies are returned in the same order as the msg_ids, not in the order of arrival.
    count = 0
    replies = [None] * len(msg_ids)
    while count < len(msg_ids):
        get_msg = getattr(kc, f"get_{channel}_msg")
        reply = get_msg(timeout=timeout)
        try:
            msg_id = reply["parent_header"]["msg_id"]
            replies[msg_ids.index(msg_id)] = reply
            count += 1
        except ValueError:
            # Allow debugging ignored replies
            print(f"Ignoring reply not to any of {msg_ids}: {reply}")
    return replies


def new_kernel(argv=None):
    """Context manager for a new kernel in a subprocess

    Should only be used for tests where the kernel must not be reused.

    Returns
    -------
    kernel_client: connected KernelClient instance
    """
    kwargs = {"stderr": STDOUT, "kernel_name": KERNEL_NAME}
    if argv is not None:
        kwargs["extra_arguments"] = argv
    return manager.run_kernel(**kwargs)
