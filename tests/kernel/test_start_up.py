"""Start-up: the engine's modules are imported in a helper thread while the
kernel answers kernel_info (kernel/python/xaccel_kernel/preload.py)."""

import json

from kernel_harness import execute, stream_text


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
