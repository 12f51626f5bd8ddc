"""Output of a background thread is batched like the main thread's: a thread
printing in a tight loop for a second yields a handful of stream messages,
not hundreds, and every line arrives."""

import pytest

from kernel_harness import execute

CODE = """
import asyncio, threading, time

def chatter():
    end = time.monotonic() + 1.0
    n = 0
    while time.monotonic() < end:
        print(n)
        n += 1
        time.sleep(0.0005)
    print("done", n)

worker = threading.Thread(target=chatter)
worker.start()
while worker.is_alive():
    await asyncio.sleep(0.05)
await asyncio.sleep(0.5)  # the last batch goes out on its interval
"""


@pytest.mark.timeout(120)
def test_thread_printing_for_one_second_is_batched(shared_kernel):
    km, kc = shared_kernel
    reply, outputs = execute(kc, CODE, timeout=60)
    assert reply["status"] == "ok", reply
    streams = [m for m in outputs if m["header"]["msg_type"] == "stream"]
    text = "".join(m["content"]["text"] for m in streams)
    lines = text.splitlines()
    assert lines and lines[-1].startswith("done "), lines[-3:]
    written = int(lines[-1].split()[1])
    assert lines[:-1] == [str(i) for i in range(written)], "lines were lost or reordered"
    assert written > 100, f"the thread printed only {written} lines"
    # 0.2 s batches: about 5 in the second the thread prints (ipykernel: 9/s).
    assert len(streams) <= 15, f"{len(streams)} stream messages for one second of thread output"
