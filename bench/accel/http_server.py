"""Minimal keep-alive HTTP/1.1 server for the fetch benchmark (run as a
separate process so it doesn't share the client's event loop)."""
import asyncio
import sys

BODY = b"x" * 64
RESPONSE = (b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: "
            + str(len(BODY)).encode() + b"\r\n\r\n" + BODY)


class Proto(asyncio.Protocol):
    def connection_made(self, transport):
        self.t = transport
        self.buf = b""

    def data_received(self, data):
        self.buf += data
        n = self.buf.count(b"\r\n\r\n")  # GET requests have no body
        if n:
            self.buf = self.buf[self.buf.rfind(b"\r\n\r\n") + 4:]
            self.t.write(RESPONSE * n)


async def main(port):
    loop = asyncio.get_running_loop()
    srv = await loop.create_server(Proto, "127.0.0.1", port, backlog=1024)
    print(srv.sockets[0].getsockname()[1], flush=True)
    await asyncio.Event().wait()


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]) if len(sys.argv) > 1 else 0))
