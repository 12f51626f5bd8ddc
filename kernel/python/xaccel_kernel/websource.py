"""Python source code in the browser, fetched when something asks for it.

The browser build ships the standard library and site-packages as sourceless bytecode
(their .py files would add about 4.5 MB gzip to every page load). Their code objects
name the in-browser paths (/usr/local/lib/python3.11/...), and lite/build publishes the
sources beside the site (xaccel-src/python3.11/..., site-packages included). Giving the
bytecode loader a get_source() that reads them with a synchronous request (allowed in
the kernel's web worker) makes tracebacks show source lines and inspect.getsource(),
`??` and linecache work, for the few files that are actually looked at.
"""

import sys
from importlib.machinery import SourcelessFileLoader

STDLIB = f"{sys.prefix}/lib/python{sys.version_info[0]}.{sys.version_info[1]}/"
# relative to the site root, where lite/build copies the stdlib's .py files
SOURCE_URL = f"xaccel-src/python{sys.version_info[0]}.{sys.version_info[1]}/"

_bytecode_get_source = SourcelessFileLoader.get_source


def source_url(path):
    """URL (relative to the site root) of the source of a packed .pyc, or None."""
    if path.startswith(STDLIB) and path.endswith(".pyc"):
        return SOURCE_URL + path[len(STDLIB):-1]
    return None


def _get_source(self, fullname):
    url = source_url(self.get_filename(fullname))
    if url is not None:
        import _xaccel_web

        text = _xaccel_web.read_url(url)
        if text is not None:
            return text
    return _bytecode_get_source(self, fullname)


def install():
    SourcelessFileLoader.get_source = _get_source
