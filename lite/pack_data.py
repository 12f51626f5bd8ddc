"""Pack the browser kernel's file tree into xaccel.data (run by lite/build).

The tree (build-lite/data: stdlib bytecode, site-packages, xaccel_kernel) is mounted
at / in the kernel's MEMFS by kernel/lite/load_pre.js. The file is one gzip stream
(many static hosts send application/octet-stream without HTTP compression; the
worker inflates it with the browser's DecompressionStream while it downloads):

    b"XAFS0001"  uint32 LE n  n bytes of JSON {"dirs": [...], "files": [[path, size], ...]}
    the files' bytes, in the order of "files"

Paths are absolute in-browser paths. The output is deterministic (sorted walk, gzip
without a timestamp): the same tree gives the same bytes.

Usage: pack_data.py TREE OUT   (prints the raw and packed sizes)
"""

import gzip
import json
import os
import struct
import sys

MAGIC = b"XAFS0001"


def walk(tree):
    dirs, files = [], []
    for d, subdirs, names in os.walk(tree):
        subdirs.sort()
        rel = os.path.relpath(d, tree)
        where = "/" if rel == "." else "/" + rel.replace(os.sep, "/")
        if where != "/":
            dirs.append(where)
        for name in sorted(names):
            path = os.path.join(d, name)
            if not os.path.isfile(path):
                continue
            files.append((where.rstrip("/") + "/" + name, path))
    return dirs, files


def pack(tree, out):
    dirs, files = walk(tree)
    sizes = [os.path.getsize(p) for _, p in files]
    index = json.dumps({"dirs": dirs, "files": [[name, size] for (name, _), size in zip(files, sizes)]},
                       separators=(",", ":")).encode()
    raw = len(MAGIC) + 4 + len(index) + sum(sizes)
    tmp = out + ".tmp"
    with open(tmp, "wb") as fh, gzip.GzipFile(fileobj=fh, mode="wb", compresslevel=9, mtime=0, filename="") as gz:
        gz.write(MAGIC + struct.pack("<I", len(index)) + index)
        for _, path in files:
            with open(path, "rb") as src:
                gz.write(src.read())
    os.replace(tmp, out)
    return len(files), raw, os.path.getsize(out)


def main():
    tree, out = sys.argv[1:3]
    n, raw, packed = pack(tree, out)
    print(f"pack_data: {n} files, {raw / 1e6:.1f} MB -> {out} {packed / 1e6:.2f} MB gzip")


if __name__ == "__main__":
    main()
