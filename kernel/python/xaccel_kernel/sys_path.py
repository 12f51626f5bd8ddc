"""sys.path of the kernel: the working directory is importable, as in ipykernel."""

import os
import sys


def add_working_directory():
    """Put '' (the current directory) before the first site-packages, as
    IPython's InteractiveShellApp.init_path does for ipykernel: a module next
    to the notebook (the server starts the kernel in the notebook's directory)
    imports, and cannot shadow the standard library. Nothing is added under
    `python -P` / PYTHONSAFEPATH."""
    if "" in sys.path or sys.flags.safe_path:
        return
    for index, path in enumerate(sys.path):
        if os.path.basename(path) in ("site-packages", "dist-packages"):
            break
    else:
        index = 0
    sys.path.insert(index, "")
