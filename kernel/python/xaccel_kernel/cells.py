"""Stable file names for cells, as JupyterLab's debugger expects them.

The debugger front end names a cell's source file itself: prefix + MurmurHash2
(32-bit, x86) of the code with a seed the kernel reports in `debugInfo` +
suffix. Cells are compiled under that same name (always, not only while
debugging), so a breakpoint set in the editor matches the code object of a
cell, including functions defined before the debugger was switched on.
"""

import os
import struct
import tempfile

from IPython.core.compilerop import CachingCompiler

# The seed JupyterLab and the peers use; any value works as long as
# debugInfo reports it.
HASH_SEED = 0xC70F6907
FILE_SUFFIX = ".py"

_MASK = 0xFFFFFFFF
_M = 0x5BD1E995


def murmur2_32(data: bytes, seed: int) -> int:
    """MurmurHash2, 32-bit, little-endian blocks (Austin Appleby's reference)."""
    length = len(data)
    h = (seed ^ length) & _MASK
    whole = length - length % 4
    for k in struct.unpack_from(f"<{whole // 4}I", data):
        k = (k * _M) & _MASK
        k ^= k >> 24
        k = (k * _M) & _MASK
        h = ((h * _M) & _MASK) ^ k
    tail = data[whole:]
    if tail:
        if len(tail) == 3:
            h ^= tail[2] << 16
        if len(tail) >= 2:
            h ^= tail[1] << 8
        h ^= tail[0]
        h = (h * _M) & _MASK
    h ^= h >> 13
    h = (h * _M) & _MASK
    h ^= h >> 15
    return h


try:
    # The same function in C++ (kernel/core/murmur_hash.hpp): every executed
    # cell is hashed, and this Python version costs about 0.7 us per byte.
    from _xaccel import murmur2_32 as _hash
except ImportError:  # outside the kernel (tests of this module)
    _hash = murmur2_32


def cell_directory() -> str:
    """Where cell files live: one private directory per kernel process."""
    return os.path.join(tempfile.gettempdir(), f"xaccel_{os.getpid()}")


def cell_file_name(code: str) -> str:
    return os.path.join(cell_directory(), f"{_hash(code.encode('utf-8'), HASH_SEED)}{FILE_SUFFIX}")


class CellCompiler(CachingCompiler):
    """IPython's caching compiler, naming each cell after its content."""

    def get_code_name(self, raw_code, transformed_code, number):
        return cell_file_name(raw_code)
