"""Serve lite/_output on 127.0.0.1 (used by lite/serve and the browser tests).

Every response carries the two headers that make the pages cross-origin isolated
(SharedArrayBuffer, so that Kernel > Interrupt stops synchronous code); a static host
must send the same (see lite/README.md). `--no-isolation` leaves them out.
`--test-routes` adds /__xaccel_test__/stall, a request that never gets an answer
(the browser tests interrupt a stalled accel.fetch with it).
"""

import argparse
import functools
import http.server
import mimetypes
import os
import sys
import time

mimetypes.add_type("application/wasm", ".wasm")
mimetypes.add_type("application/javascript", ".js")
mimetypes.add_type("application/json", ".json")


class Handler(http.server.SimpleHTTPRequestHandler):
    extensions_map = {**http.server.SimpleHTTPRequestHandler.extensions_map,
                      ".wasm": "application/wasm", ".js": "application/javascript", ".data": "application/octet-stream"}

    isolation = True
    test_routes = False

    def end_headers(self):
        # Let the browser cache, but revalidate (Last-Modified/If-Modified-Since).
        self.send_header("Cache-Control", "no-cache")
        if self.isolation:
            self.send_header("Cross-Origin-Opener-Policy", "same-origin")
            self.send_header("Cross-Origin-Embedder-Policy", "require-corp")
        super().end_headers()

    def do_GET(self):
        if self.test_routes and self.path.startswith("/__xaccel_test__/stall"):
            time.sleep(120)  # a server that never answers in time (the client gives up)
            return
        super().do_GET()

    def log_message(self, fmt, *args):
        if os.environ.get("XACCEL_SERVE_LOG"):
            super().log_message(fmt, *args)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, default=int(os.environ.get("XACCEL_LITE_PORT", "8000")))
    parser.add_argument("--dir", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "_output"))
    parser.add_argument("--no-isolation", action="store_true",
                        help="leave out the COOP/COEP headers (no SharedArrayBuffer in the pages)")
    parser.add_argument("--test-routes", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    Handler.isolation = not args.no_isolation
    Handler.test_routes = args.test_routes
    if not os.path.isfile(os.path.join(args.dir, "index.html")):
        sys.exit(f"no site in {args.dir}: build it with lite/build")
    handler = functools.partial(Handler, directory=args.dir)
    server = http.server.ThreadingHTTPServer(("127.0.0.1", args.port), handler)
    server.daemon_threads = True
    port = server.server_address[1]
    print(f"xaccel lite site: http://127.0.0.1:{port}/lab/index.html", flush=True)
    print(f"                  http://127.0.0.1:{port}/notebooks/index.html?path=kernel-tour.ipynb", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
