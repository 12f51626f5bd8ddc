"""Start-up: the engine's modules are imported in a helper thread while the
kernel answers kernel_info (kernel/python/xaccel_kernel/preload.py)."""

import json
import time

import pytest

from kernel_harness import execute, start_kernel_without_waiting, stop_kernel, stream_text


PRELOAD = r"""
import json, sys, threading
from xaccel_kernel import preload
print(json.dumps({
    "imported": preload.imported == list(preload.MODULES),
    "helper_gone": not any(t.name == "xaccel-preload" for t in threading.enumerate()),
    "switch_interval": sys.getswitchinterval(),
}))
"""


def test_start_up_imports_ran_in_the_helper_thread(kernel):
    # preload.py: the engine's modules were imported beside kernel_info,
    # the helper is gone and the GIL switch interval is Python's again.
    km, kc = kernel
    reply, outputs = execute(kc, PRELOAD)
    assert reply["status"] == "ok", reply
    assert json.loads(stream_text(outputs)) == {"imported": True, "helper_gone": True, "switch_interval": 0.005}


# Requests the control thread serves itself by running Python, and how each
# reply says it went well.
EARLY_CONTROL_REQUESTS = {
    "debug_request": ({"type": "request", "seq": 1, "command": "debugInfo", "arguments": {}},
                      lambda content: content["success"] is True),
    "create_subshell_request": ({}, lambda content: content["status"] == "ok"),
}


@pytest.mark.parametrize("msg_type", sorted(EARLY_CONTROL_REQUESTS))
def test_control_request_before_the_engine_started(msg_type):
    # JupyterLab asks the debugger for its state as soon as it connects,
    # while the helper thread still imports IPython. The control thread
    # serves debug_request and the subshell requests; it used to import
    # (the debugger, IPython) beside the helper, and an import deadlock left
    # IPython half-imported: the kernel died. It now waits for the engine,
    # which starts at once. The request lands at different points of the
    # helper's imports (about 0.2 s from kernel_info's reply).
    content, went_well = EARLY_CONTROL_REQUESTS[msg_type]
    for delay in range(0, 250, 10):
        km, kc = start_kernel_without_waiting()
        try:
            # kernel_info is answered at once, while the helper imports.
            kc.kernel_info(reply=True, timeout=30)
            time.sleep(delay / 1000)
            msg = kc.session.msg(msg_type, content)
            kc.control_channel.send(msg)
            reply = kc.control_channel.get_msg(timeout=60)
            assert reply["parent_header"]["msg_id"] == msg["header"]["msg_id"]
            assert went_well(reply["content"]), reply["content"]
            assert km.is_alive()
            kc.wait_for_ready(timeout=30)
            result, outputs = execute(kc, "print(6 * 7)")
            assert result["status"] == "ok" and stream_text(outputs) == "42\n"
        finally:
            stop_kernel(km, kc)
