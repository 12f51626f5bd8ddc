"""Serve lite/_output on 127.0.0.1 (used by lite/serve and the browser tests)."""

import argparse
import functools
import http.server
import mimetypes
import os
import sys

mimetypes.add_type("application/wasm", ".wasm")
mimetypes.add_type("application/javascript", ".js")
mimetypes.add_type("application/json", ".json")


class Handler(http.server.SimpleHTTPRequestHandler):
    extensions_map = {**http.server.SimpleHTTPRequestHandler.extensions_map,
                      ".wasm": "application/wasm", ".js": "application/javascript", ".data": "application/octet-stream"}

    def end_headers(self):
        # Let the browser cache, but revalidate (Last-Modified/If-Modified-Since).
        self.send_header("Cache-Control", "no-cache")
        super().end_headers()

    def log_message(self, fmt, *args):
        if os.environ.get("XACCEL_SERVE_LOG"):
            super().log_message(fmt, *args)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, default=int(os.environ.get("XACCEL_LITE_PORT", "8000")))
    parser.add_argument("--dir", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "_output"))
    args = parser.parse_args()
    if not os.path.isfile(os.path.join(args.dir, "index.html")):
        sys.exit(f"no site in {args.dir}: build it with lite/build")
    handler = functools.partial(Handler, directory=args.dir)
    server = http.server.ThreadingHTTPServer(("127.0.0.1", args.port), handler)
    port = server.server_address[1]
    print(f"xaccel lite site: http://127.0.0.1:{port}/lab/index.html", flush=True)
    print(f"                  http://127.0.0.1:{port}/notebooks/index.html?path=kernel-tour.ipynb", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
