"""The wheel index of a JupyterLite site (run by `lite/build --wheels DIR`).

Copies DIR/*.whl into SITE/xaccel-wheels/ and writes SITE/xaccel-wheels/index.json,
from which the browser kernel's `%pip install NAME` takes wheels
(kernel/python/xaccel_kernel/webpip.py). Without DIR the index is written empty.

Usage: wheel_index.py SITE [DIR]
"""

import email.parser
import hashlib
import json
import pathlib
import shutil
import sys
import zipfile


def wheel_entry(path):
    with zipfile.ZipFile(path) as zf:
        meta_name = next((n for n in zf.namelist() if n.count("/") == 1 and n.endswith(".dist-info/METADATA")), None)
        if meta_name is None:
            raise SystemExit(f"wheel_index: {path} has no .dist-info/METADATA")
        meta = email.parser.Parser().parsestr(zf.read(meta_name).decode("utf-8", "replace"))
    return {
        "name": meta["Name"],
        "version": meta["Version"],
        "file": path.name,
        "sha256": hashlib.sha256(path.read_bytes()).hexdigest(),
        "pure": path.name.endswith("-none-any.whl"),
    }


def main():
    site = pathlib.Path(sys.argv[1])
    source = pathlib.Path(sys.argv[2]) if len(sys.argv) > 2 and sys.argv[2] else None
    out = site / "xaccel-wheels"
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    entries = []
    if source is not None:
        wheels = sorted(source.glob("*.whl"))
        if not wheels:
            raise SystemExit(f"wheel_index: no .whl files in {source}")
        for wheel in wheels:
            shutil.copy2(wheel, out / wheel.name)
            entry = wheel_entry(out / wheel.name)
            if not entry["pure"]:
                print(f"wheel_index: warning: {wheel.name} is not a pure-Python wheel; %pip in the browser will refuse it")
            entries.append(entry)
    (out / "index.json").write_text(json.dumps({"format": 1, "wheels": entries}, indent=1) + "\n")
    print(f"wheel_index: {len(entries)} wheels in {out}")


if __name__ == "__main__":
    main()
