"""History survives its database file being moved aside or replaced under a
running kernel (as IPython does to a history.sqlite it finds locked), and
never loses the session's cells."""

import json
import os
import sqlite3
import time

import pytest

from kernel_harness import execute, of_type, stream_text


def _history(kc, **content):
    msg = kc.session.msg("history_request", {"raw": True, "output": False, **content})
    kc.shell_channel.send(msg)
    while True:
        reply = kc.get_shell_msg(timeout=30)
        if reply["parent_header"].get("msg_id") == msg["header"]["msg_id"]:
            return reply["content"]


def _run(kc, code, prints=False):
    reply, outputs = execute(kc, code)
    assert reply["status"] == "ok", reply
    if not prints:
        # Nothing from the history machinery leaks into a cell.
        assert not of_type(outputs, "stream"), outputs
    return outputs


def _hist_file(kc):
    outputs = _run(kc, "print(get_ipython().history_manager.hist_file)", prints=True)
    return stream_text(outputs).strip()


def _new_database(path):
    """What another kernel's IPython leaves at the path: a fresh history file."""
    db = sqlite3.connect(path)
    with db:
        db.execute("CREATE TABLE IF NOT EXISTS sessions (session integer primary key autoincrement, "
                   "start timestamp, end timestamp, num_cmds integer, remark text)")
        db.execute("CREATE TABLE IF NOT EXISTS history (session integer, line integer, source text, "
                   "source_raw text, PRIMARY KEY (session, line))")
        db.execute("CREATE TABLE IF NOT EXISTS output_history (session integer, line integer, output text, "
                   "PRIMARY KEY (session, line))")
        # Its own sessions, so that session numbers differ from ours.
        for _ in range(5):
            db.execute("INSERT INTO sessions VALUES (NULL, '2026-01-01', NULL, NULL, '')")
    db.close()


@pytest.mark.parametrize("what", ["moved-aside-and-recreated", "deleted", "replaced"])
def test_history_survives_the_file_being_replaced(kernel, what):
    km, kc = kernel
    cells = [f"x{i} = {i}" for i in range(5)]
    for code in cells:
        _run(kc, code)
    path = _hist_file(kc)
    assert os.path.isfile(path)
    before = _history(kc, hist_access_type="tail", n=100)
    assert before["status"] == "ok"

    if what == "moved-aside-and-recreated":
        os.rename(path, path.replace(".sqlite", "-corrupt-test.sqlite"))
        _new_database(path)
    elif what == "deleted":
        os.remove(path)
    else:
        _new_database(path + ".new")
        os.replace(path + ".new", path)

    # More cells than IPython's write-out batch (db_cache_size 20), so that
    # its saving thread writes to the old file too.
    later = [f"y{i} = {i}" for i in range(25)]
    for code in later:
        _run(kc, code)
    expected = cells + ["print(get_ipython().history_manager.hist_file)"] + later

    tail = _history(kc, hist_access_type="tail", n=100)
    assert tail["status"] == "ok", tail
    assert [entry[2] for entry in tail["history"]] == expected
    session = tail["history"][0][0]
    assert [entry[1] for entry in tail["history"]] == list(range(1, len(expected) + 1))

    current = _history(kc, hist_access_type="range", session=0, start=1, stop=None)
    assert [entry[2] for entry in current["history"]] == expected
    found = _history(kc, hist_access_type="search", pattern="y2*", n=100)
    assert found["status"] == "ok"
    assert [entry[2] for entry in found["history"]][-1] == "y24 = 24"

    # The file at the path now holds the whole session.
    db = sqlite3.connect(path)
    try:
        rows = db.execute("SELECT source_raw FROM history WHERE session = ? ORDER BY line", (session,)).fetchall()
    finally:
        db.close()
    assert [r[0] for r in rows] == expected

    # And the kernel goes on recording.
    _run(kc, "z = 'after'")
    tail = _history(kc, hist_access_type="tail", n=1)
    assert [entry[2] for entry in tail["history"]] == ["z = 'after'"]


def test_tests_use_their_own_ipython_directory(kernel):
    km, kc = kernel
    outputs = _run(kc, "import IPython; print(IPython.paths.get_ipython_dir())", prints=True)
    directory = stream_text(outputs).strip()
    assert directory != os.path.expanduser("~/.ipython")
    assert "xaccel-tests-ipython-" in directory


# Inside the kernel: while the saving thread writes a batch (made slow here),
# recording the next cell must not wait for that write; a write-out from the
# main thread afterwards must (every row is in the database after it).
SLOW_WRITE = r"""
import json, threading, time
hm = get_ipython().history_manager
writing = threading.Event()
original = hm._insert
def slow_insert(conn, statement, rows):
    if rows and threading.current_thread() is not threading.main_thread():
        writing.set()
        time.sleep(2.0)
    return original(conn, statement, rows)
hm._insert = slow_insert
try:
    fillers = hm.db_cache_size - len(hm.db_input_cache)
    for i in range(fillers):
        hm.store_inputs(9000 + i, f"filler_{i} = {i}")
    started = writing.wait(30)
    t = time.perf_counter()
    hm.store_inputs(9100, "during_write = 1")
    waited = time.perf_counter() - t
    hm.writeout_cache()
    lines = {row[0] for row in hm.db.execute("SELECT line FROM history WHERE session = ?", (hm.session_number,))}
finally:
    del hm._insert
expected = set(range(9000, 9000 + fillers)) | {9100}
print(json.dumps({"started": started, "waited": waited, "missing": sorted(expected - lines)}))
"""


def test_a_cell_does_not_wait_for_the_history_write(kernel):
    km, kc = kernel
    outputs = _run(kc, SLOW_WRITE, prints=True)
    result = json.loads(stream_text(outputs))
    assert result["started"], "the history saving thread never wrote"
    # IPython's own manager holds the cache lock for the whole write (2 s here).
    assert result["waited"] < 1.0, result
    assert result["missing"] == [], result
