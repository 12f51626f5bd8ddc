import asyncio
import json
import select
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

import accel

pytestmark = pytest.mark.threads  # native libcurl backend (threaded build)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    aborted = threading.Event()

    def log_message(self, *args):
        pass

    def _send(self, status, body, ctype="text/plain; charset=utf-8", extra=()):
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        for k, v in extra:
            self.send_header(k, v)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def do_GET(self):
        if self.path == "/hello":
            self._send(200, "héllo wörld".encode(), extra=[("X-Test", "1"), ("X-Test", "2")])
        elif self.path == "/json":
            self._send(200, json.dumps({"a": [1, 2, 3]}).encode(), "application/json")
        elif self.path == "/latin1":
            self._send(200, "café".encode("latin-1"), "text/plain; charset=iso-8859-1")
        elif self.path == "/missing":
            self._send(404, b"not found")
        elif self.path == "/redirect":
            self._send(302, b"", extra=[("Location", "/hello")])
        elif self.path == "/slow":
            # Wait up to 3 s; notice when the client aborts the transfer.
            r, _, _ = select.select([self.connection], [], [], 3)
            if r and self.connection.recv(1, socket.MSG_PEEK) == b"":
                Handler.aborted.set()
                return
            self._send(200, b"late")
        elif self.path.startswith("/n/"):
            self._send(200, self.path[3:].encode())
        else:
            self._send(400, b"?")

    def do_POST(self):
        n = int(self.headers.get("Content-Length", 0))
        body = self.rfile.read(n)
        out = {"method": self.command, "body": body.decode(), "x": self.headers.get("X-Custom")}
        self._send(201, json.dumps(out).encode(), "application/json")

    do_PUT = do_POST


@pytest.fixture(scope="module")
def server():
    srv = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    srv.daemon_threads = True
    t = threading.Thread(target=srv.serve_forever, daemon=True)
    t.start()
    yield f"http://127.0.0.1:{srv.server_address[1]}"
    srv.shutdown()
    srv.server_close()


def run(coro):
    return asyncio.run(coro)


def test_native_backend_available():
    assert accel.has_native_fetch()


def test_get_text_headers(server):
    async def main():
        r = await accel.fetch(server + "/hello")
        assert r.status == 200 and r.ok
        assert r.body == "héllo wörld".encode()
        assert r.text() == "héllo wörld"
        assert r.headers["content-type"].startswith("text/plain")
        assert r.headers["x-test"] == "1, 2"
        assert r.url == server + "/hello"
        assert "200" in repr(r)

    run(main())


def test_json_charset_redirect_and_status(server):
    async def main():
        assert (await accel.fetch(server + "/json")).json() == {"a": [1, 2, 3]}
        assert (await accel.fetch(server + "/latin1")).text() == "café"
        r = await accel.fetch(server + "/missing")
        assert r.status == 404 and not r.ok and r.body == b"not found"
        r = await accel.fetch(server + "/redirect")
        assert r.status == 200 and r.url.endswith("/hello")

    run(main())


def test_post_with_body_and_headers(server):
    async def main():
        r = await accel.fetch(server + "/echo", method="POST", body=b"payload",
                              headers={"X-Custom": "yes", "Content-Type": "text/plain"})
        assert r.status == 201
        assert r.json() == {"method": "POST", "body": "payload", "x": "yes"}
        r = await accel.fetch(server + "/echo", method="PUT", body="strbody", headers=[("X-Custom", "p")])
        assert r.json() == {"method": "PUT", "body": "strbody", "x": "p"}

    run(main())


def test_timeout_raises_timeouterror(server):
    async def main():
        t0 = time.monotonic()
        with pytest.raises(TimeoutError, match="timed out"):
            await accel.fetch(server + "/slow", timeout=0.2)
        assert time.monotonic() - t0 < 2

    run(main())


def test_connection_refused():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()

    async def main():
        with pytest.raises(ConnectionRefusedError) as info:
            await accel.fetch(f"http://127.0.0.1:{port}/")
        assert str(port) in str(info.value)

    run(main())


def test_bad_url_and_args():
    async def main():
        with pytest.raises(ValueError):
            await accel.fetch("gopherx://nowhere/")
        with pytest.raises(ValueError):
            accel.fetch("http://127.0.0.1/", timeout=0)

    run(main())


def test_cancel_aborts_transfer(server):
    Handler.aborted.clear()

    async def main():
        t = asyncio.ensure_future(accel.fetch(server + "/slow"))
        await asyncio.sleep(0.2)
        t.cancel()
        with pytest.raises(asyncio.CancelledError):
            await t

    run(main())
    assert Handler.aborted.wait(3), "server never saw the client abort the transfer"


def test_timeout_wrapper_aborts_fetch(server):
    Handler.aborted.clear()

    async def main():
        with pytest.raises(TimeoutError):
            await accel.timeout(accel.fetch(server + "/slow"), 0.2)

    run(main())
    assert Handler.aborted.wait(3)


def test_fetch_many_results_and_exceptions(server):
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    dead = f"http://127.0.0.1:{s.getsockname()[1]}/"
    s.close()

    async def main():
        urls = [f"{server}/n/{i}" for i in range(200)] + [dead, server + "/missing"]
        res = await accel.fetch_many(urls, concurrency=16, timeout=5)
        assert len(res) == len(urls)
        assert [r.body for r in res[:200]] == [str(i).encode() for i in range(200)]
        assert isinstance(res[200], ConnectionRefusedError)
        assert res[201].status == 404
        assert await accel.fetch_many([]) == []

    run(main())


def test_fetch_many_timeout_per_request(server):
    async def main():
        res = await accel.fetch_many([server + "/slow", server + "/n/ok"], timeout=0.3)
        assert isinstance(res[0], TimeoutError)
        assert res[1].body == b"ok"

    run(main())


def test_fetch_many_cancel(server):
    async def main():
        t = asyncio.ensure_future(accel.fetch_many([server + "/slow"] * 4, concurrency=2))
        await asyncio.sleep(0.1)
        t.cancel()
        with pytest.raises(asyncio.CancelledError):
            await t

    run(main())
