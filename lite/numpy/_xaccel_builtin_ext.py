"""Imports for the packages linked into xaccel's wasm interpreters (numpy).

Built-in submodules: the wasm builds link numpy's C extension modules statically and
register them with PyImport_AppendInittab under dotted names such as
"numpy._core._multiarray_umath". CPython's BuiltinImporter only answers top-level names,
so this finder (put first on sys.meta_path by the .pth file beside it) hands such a
submodule to BuiltinImporter, which creates it from the inittab entry.

Lazy packages (browser): `_xaccel_lazy_packages.PACKAGES` (written by lite/build) maps a
top-level name to a zip of its Python files published with the site. The first import
of that name fetches the zip (`_xaccel_websync.get`, the synchronous request from the
kernel's worker that %pip uses too) and unpacks it here, in site-packages; the normal
path finder then imports it. Start-up does not pay for packages that are never imported.
"""
import _imp
import os
import sys
from importlib.machinery import BuiltinImporter, ModuleSpec

try:
    from _xaccel_lazy_packages import PACKAGES as _LAZY
except ImportError:
    _LAZY = {}
_LAZY = dict(_LAZY)
_HERE = os.path.dirname(os.path.abspath(__file__))


def _unpack(name, url):
    if os.path.isdir(os.path.join(_HERE, name)):
        return
    import _xaccel_websync
    import importlib
    import io
    import zipfile

    try:
        status, _, data = _xaccel_websync.get(url)
    except OSError as e:
        raise ImportError(f"could not load the {name!r} package: {e}", name=name) from None
    if status != 200:
        raise ImportError(f"could not load the {name!r} package: the site answered {status} for {url}", name=name)
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        z.extractall(_HERE)
    importlib.invalidate_caches()


class BuiltinSubmoduleFinder:
    @classmethod
    def find_spec(cls, fullname, path=None, target=None):
        if "." in fullname:
            if _imp.is_builtin(fullname):
                return ModuleSpec(fullname, BuiltinImporter, origin="built-in")
        elif fullname in _LAZY:
            _unpack(fullname, _LAZY[fullname])
            del _LAZY[fullname]
        return None

    @classmethod
    def invalidate_caches(cls):
        pass


def install():
    if BuiltinSubmoduleFinder not in sys.meta_path:
        sys.meta_path.insert(0, BuiltinSubmoduleFinder)


install()
