"""Writes small wheels for the browser %pip tests (a wheel is a zip archive with a
.dist-info directory: METADATA, WHEEL and RECORD)."""
from __future__ import annotations

import base64
import hashlib
import zipfile
from pathlib import Path


def make_wheel(directory, name, version, files, requires=(), tag="py3-none-any"):
    """`files` maps archive paths to text; returns the wheel's path."""
    dist = name.replace("-", "_")
    info = f"{dist}-{version}.dist-info"
    entries = dict(files)
    entries[f"{info}/METADATA"] = "".join(
        [f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n"]
        + [f"Requires-Dist: {r}\n" for r in requires])
    pure = tag.endswith("-none-any")
    entries[f"{info}/WHEEL"] = (f"Wheel-Version: 1.0\nGenerator: xaccel-tests\n"
                                f"Root-Is-Purelib: {'true' if pure else 'false'}\nTag: {tag}\n")
    record = []
    for path, text in entries.items():
        digest = base64.urlsafe_b64encode(hashlib.sha256(text.encode()).digest()).rstrip(b"=").decode()
        record.append(f"{path},sha256={digest},{len(text.encode())}")
    record.append(f"{info}/RECORD,,")
    entries[f"{info}/RECORD"] = "\n".join(record) + "\n"
    out = Path(directory) / f"{dist}-{version}-{tag}.whl"
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        for path, text in entries.items():
            zf.writestr(path, text)
    return out
