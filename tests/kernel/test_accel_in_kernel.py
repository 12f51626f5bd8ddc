"""accel inside the kernel: preloaded, awaitable on the kernel's loop, and
cancelled promptly by interrupts (sleep and fetch)."""

import http.server
import socketserver
import threading
import time

import pytest

from kernel_harness import INTERRUPTED_WITHIN_S, eventually, execute, interrupt_after, of_type, start_kernel, stop_kernel


class _SlowHandler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        if self.path == "/slow":
            time.sleep(30)  # a server that never answers in time
            return
        body = b'{"hello": "kernel"}'
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def http_url():
    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), _SlowHandler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def value(kc, code):
    reply, outputs = execute(kc, code)
    assert reply["status"] == "ok", reply
    return of_type(outputs, "execute_result")[0]["content"]["data"]["text/plain"]


def test_accel_awaitables_on_the_kernel_loop(shared_kernel, http_url):
    _, kc = shared_kernel
    assert value(kc, "import time\nt0 = time.monotonic()\nawait accel.sleep(0.3)\nround(time.monotonic() - t0, 1) >= 0.3") == "True"
    assert value(kc, f"r = await accel.fetch('{http_url}/data')\n(r.status, r.json())") == "(200, {'hello': 'kernel'})"
    assert value(kc, "import hashlib\ndata = bytes(range(256)) * 4096\n"
                     "(await accel.sha256(data)) == hashlib.sha256(data).hexdigest()") == "True"
    assert value(kc, "import asyncio\nawait accel.gather(accel.sleep(0.05, 'a'), asyncio.sleep(0.05, 'b'))") == "['a', 'b']"


def test_accel_background_work_runs_between_cells(shared_kernel):
    _, kc = shared_kernel
    execute(kc, "import asyncio\nseen = []\nasync def consume():\n"
                "    async for n in accel.stream_range(5, interval=0.05):\n        seen.append(n)\n"
                "consumer = asyncio.create_task(consume())")
    # Between cells (a synchronous cell does not run the loop): each check
    # is one short cell, and the stream progresses while the kernel is idle.
    assert eventually(lambda: value(kc, "seen") == "[0, 1, 2, 3, 4]"), value(kc, "seen")


@pytest.mark.parametrize("mode", ["signal", "message"])
@pytest.mark.parametrize("what", ["sleep", "fetch"])
def test_interrupt_cancels_accel_work(mode, what, http_url):
    km, kc = start_kernel(interrupt_mode=mode)
    try:
        code = "await accel.sleep(100)" if what == "sleep" else f"await accel.fetch('{http_url}/slow')"
        reply, elapsed = interrupt_after(km, kc, code)
        assert elapsed < INTERRUPTED_WITHIN_S
        assert reply["ename"] == "KeyboardInterrupt"
        # The C++ side let go of the work: no timer or transfer left behind.
        stats = "s = accel._stats()\n(s['timers'], s['queued_jobs'])"
        assert eventually(lambda: value(kc, stats) == "(0, 0)"), value(kc, stats)
        assert value(kc, "await accel.sleep(0.01, 'usable')") == "'usable'"
    finally:
        stop_kernel(km, kc)
