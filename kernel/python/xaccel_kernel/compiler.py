"""Cell names that depend on the cell's content only.

IPython names each cell `<ipython-input-N-HASH>` and keeps its source in
linecache under that name for tracebacks and `inspect`: one entry per executed
cell, so a kernel that runs the same cell 10,000 times keeps 10,000 copies.
Named by a hash of their source (as ipykernel does), identical cells share one
entry. Tracebacks still say `Cell In[N]` (IPython maps the name to the latest
execution count).
"""

import hashlib
import os
import tempfile

from IPython.core.compilerop import CachingCompiler


def cell_file_name(raw_code):
    """A file-like name for a cell (nothing is written there)."""
    digest = hashlib.sha1(raw_code.encode("utf-8", "surrogatepass"), usedforsecurity=False).hexdigest()[:16]
    return os.path.join(tempfile.gettempdir(), f"xaccel_{os.getpid()}", f"{digest}.py")


class ContentNamedCompiler(CachingCompiler):
    def get_code_name(self, raw_code, transformed_code, number):
        return cell_file_name(raw_code)
