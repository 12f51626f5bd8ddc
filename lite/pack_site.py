"""Make the browser kernel's staged site-packages lighter (run by lite/build after
compileall).

1. Lazy packages: each package named with --lazy (top-level package directories, e.g.
   jedi and parso, used only by completion) is zipped into LAZY_DIR/NAME.zip and
   removed from the tree; its dist-info stays, so importlib.metadata and %pip still
   see it installed. lite/build publishes the zips as xaccel-pkgs/NAME.zip and the
   first import fetches one (lite/lazy/_xaccel_lazy.py).
2. Sources: every .py file of the tree is copied to SRC_DIR (published by lite/build
   as xaccel-src/python3.11/site-packages/), and the tree keeps only its bytecode, as
   sourceless .pyc where the .py was (kernel/python/xaccel_kernel/websource.py fetches
   a source when a traceback or inspect asks for it). Files without bytecode stay.

Usage: pack_site.py SITE_PACKAGES SRC_DIR LAZY_DIR [--lazy NAME]...
Prints one line: files made sourceless, bytes moved out, lazy zips written.
"""

import argparse
import os
import shutil
import zipfile

TAG = ".cpython-311.pyc"


def zip_dir(root, name, out):
    """NAME/ under root into out (deterministic: sorted, fixed timestamps)."""
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as z:
        for d, dirs, files in os.walk(os.path.join(root, name)):
            dirs.sort()
            for f in sorted(files):
                path = os.path.join(d, f)
                info = zipfile.ZipInfo(os.path.relpath(path, root), date_time=(2020, 1, 1, 0, 0, 0))
                info.compress_type = zipfile.ZIP_DEFLATED
                info.external_attr = 0o644 << 16
                with open(path, "rb") as fh:
                    z.writestr(info, fh.read(), compresslevel=9)


def make_sourceless(site, src_dir):
    moved = count = 0
    for d, dirs, files in os.walk(site):
        dirs[:] = sorted(x for x in dirs if x != "__pycache__")
        for f in files:
            if not f.endswith(".py"):
                continue
            py = os.path.join(d, f)
            rel = os.path.relpath(py, site)
            dest = os.path.join(src_dir, rel)
            os.makedirs(os.path.dirname(dest), exist_ok=True)
            shutil.copy2(py, dest)
            pyc = os.path.join(d, "__pycache__", f[:-3] + TAG)
            if os.path.exists(pyc):
                moved += os.path.getsize(py)
                os.replace(pyc, py + "c")
                os.remove(py)
                count += 1
    for d, dirs, files in os.walk(site, topdown=False):
        if os.path.basename(d) == "__pycache__" and not os.listdir(d):
            os.rmdir(d)
    return count, moved


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("site")
    ap.add_argument("src_dir")
    ap.add_argument("lazy_dir")
    ap.add_argument("--lazy", action="append", default=[])
    args = ap.parse_args()
    shutil.rmtree(args.src_dir, ignore_errors=True)
    shutil.rmtree(args.lazy_dir, ignore_errors=True)
    os.makedirs(args.lazy_dir)
    count, moved = make_sourceless(args.site, args.src_dir)
    zips = []
    for name in args.lazy:
        if not os.path.isdir(os.path.join(args.site, name)):
            raise SystemExit(f"pack_site: no package {name!r} in {args.site}")
        out = os.path.join(args.lazy_dir, f"{name}.zip")
        zip_dir(args.site, name, out)
        shutil.rmtree(os.path.join(args.site, name))
        zips.append(f"{name} {os.path.getsize(out) / 1e6:.2f} MB")
    print(f"pack_site: {count} modules sourceless ({moved / 1e6:.1f} MB of .py moved to {args.src_dir}); "
          f"lazy: {', '.join(zips) or 'none'}")


if __name__ == "__main__":
    main()
