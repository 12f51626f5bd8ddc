"""Imports for the packages linked into xaccel's wasm interpreters (numpy).

Built-in submodules: the wasm builds link numpy's C extension modules statically and
register them with PyImport_AppendInittab under dotted names such as
"numpy._core._multiarray_umath". CPython's BuiltinImporter only answers top-level names,
so this finder (put first on sys.meta_path by the .pth file beside it) hands such a
submodule to BuiltinImporter, which creates it from the inittab entry.

Lazy packages (browser): `_xaccel_lazy_packages.PACKAGES` (written by lite/build) maps a
top-level name to a zip of its Python files published with the site (numpy; jedi and
parso, which only completion uses; ...). Finding such a name answers a spec at once,
without a download, so `importlib.util.find_spec("jedi")` (IPython asks it at import)
costs nothing; the first import of the name fetches the zip (`_xaccel_websync.get`, the
synchronous request from the kernel's worker that %pip uses too), unpacks it here, in
site-packages, and continues with the spec of the unpacked package. Start-up does not
pay for packages that are never imported.
"""
import _imp
import os
import sys
from importlib.machinery import BuiltinImporter, ModuleSpec, PathFinder

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


class _LazyPackageLoader:
    """Loader of a lazy package's first import: unpacks the zip, then hands the
    module over to the unpacked package's own spec and loader."""

    def __init__(self, url):
        self.url = url

    def create_module(self, spec):
        _unpack(spec.name, self.url)
        _LAZY.pop(spec.name, None)
        real = PathFinder.find_spec(spec.name, [_HERE])
        if real is None:
            raise ImportError(f"the {spec.name!r} package is missing from {self.url}", name=spec.name)
        # import machinery reads these after create_module (module attributes, exec_module)
        spec.loader = real.loader
        spec.origin = real.origin
        spec.loader_state = real.loader_state
        spec.submodule_search_locations = real.submodule_search_locations
        spec.cached = real.cached
        spec.has_location = real.has_location
        return real.loader.create_module(spec)

    def exec_module(self, module):  # not reached: create_module replaced the loader
        raise ImportError(f"{module.__name__}: lazy package loaded twice")


class BuiltinSubmoduleFinder:
    @classmethod
    def find_spec(cls, fullname, path=None, target=None):
        if "." in fullname:
            if _imp.is_builtin(fullname):
                return ModuleSpec(fullname, BuiltinImporter, origin="built-in")
        elif fullname in _LAZY:
            if os.path.isdir(os.path.join(_HERE, fullname)):
                del _LAZY[fullname]  # unpacked already (e.g. by %pip or another import)
                return None
            return ModuleSpec(fullname, _LazyPackageLoader(_LAZY[fullname]), is_package=True)
        return None

    @classmethod
    def invalidate_caches(cls):
        pass


def install():
    if BuiltinSubmoduleFinder not in sys.meta_path:
        sys.meta_path.insert(0, BuiltinSubmoduleFinder)


install()
