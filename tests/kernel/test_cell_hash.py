"""Cells are named by MurmurHash2 of their code (cells.py); inside the kernel
the hash is computed in C++ (kernel/core/murmur_hash.hpp). It must equal the
reference algorithm for every tail length, non-ASCII text and long cells."""

import json

from kernel_harness import execute, stream_text

CHECK = r"""
import json, _xaccel
from xaccel_kernel import cells
samples = [b"", b"a", b"ab", b"abc", b"abcd", b"abcde", b"pass", "é∑😀".encode(), bytes(range(256)) * 40]
print(json.dumps([[cells.murmur2_32(s, seed), _xaccel.murmur2_32(s, seed)]
                  for s in samples for seed in (0, cells.HASH_SEED, 0xFFFFFFFF)]))
"""


def test_native_hash_equals_the_reference(shared_kernel):
    km, kc = shared_kernel
    reply, outputs = execute(kc, CHECK)
    assert reply["status"] == "ok", reply
    pairs = json.loads(stream_text(outputs))
    assert len(pairs) == 27
    assert all(python == native for python, native in pairs), pairs

