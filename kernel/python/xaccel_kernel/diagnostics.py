"""The kernel's own messages ("xaccel: ..."): to the kernel's stderr, never
into a cell, also while fd 2 is captured for the user's output (fd_capture)."""

import os

import _xaccel

_fd = 2


def redirect(fd):
    """Send the kernel's diagnostics (Python and C++) to `fd` from now on."""
    global _fd
    _fd = fd
    _xaccel.redirect_diagnostics(fd)


def log(text):
    if not text.endswith("\n"):
        text += "\n"
    data = text.encode("utf-8", "replace")
    try:
        while data:
            data = data[os.write(_fd, data):]
    except OSError:
        pass
