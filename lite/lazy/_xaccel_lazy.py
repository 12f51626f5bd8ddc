"""Lazy site-packages of the browser kernel (jedi, parso, prompt_toolkit, wcwidth).

lite/pack_site.py leaves these packages out of xaccel.data and zips each into
xaccel-pkgs/NAME.zip beside the site; `_xaccel_lazy_table.PACKAGES` (written by
lite/build) maps each top-level name to its zip. Finding such a name answers a spec at
once, without a download, so `importlib.util.find_spec("jedi")` (IPython asks it at
import) costs nothing; the first import of the name fetches the zip
(`_xaccel_websync.get`, the synchronous request from the kernel's worker that %pip uses
too), unpacks it here, in site-packages, and continues with the unpacked package's own
spec and loader. (numpy's zip goes through lite/numpy/_xaccel_builtin_ext.py, which
unpacks when the name is first looked up.)
"""
import os
import sys
from importlib.machinery import ModuleSpec, PathFinder

try:
    from _xaccel_lazy_table import PACKAGES as _TABLE
except ImportError:
    _TABLE = {}
_LAZY = dict(_TABLE)
_HERE = os.path.dirname(os.path.abspath(__file__))


def _unpack(name, url):
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
    """Loader of a lazy package's first import: unpacks the zip, then hands the module
    over to the unpacked package's own spec and loader."""

    def __init__(self, url):
        self.url = url

    def create_module(self, spec):
        if not os.path.isdir(os.path.join(_HERE, spec.name)):
            _unpack(spec.name, self.url)
        _LAZY.pop(spec.name, None)
        real = PathFinder.find_spec(spec.name, [_HERE])
        if real is None:
            raise ImportError(f"the {spec.name!r} package is missing from {self.url}", name=spec.name)
        # the import machinery reads these after create_module (module attributes, exec_module)
        spec.loader = real.loader
        spec.origin = real.origin
        spec.loader_state = real.loader_state
        spec.submodule_search_locations = real.submodule_search_locations
        spec.cached = real.cached
        spec.has_location = real.has_location
        return real.loader.create_module(spec)

    def exec_module(self, module):  # not reached: create_module replaced the loader
        raise ImportError(f"{module.__name__}: lazy package loaded twice")


class LazyPackageFinder:
    @classmethod
    def find_spec(cls, fullname, path=None, target=None):
        if "." in fullname or fullname not in _LAZY:
            return None
        if os.path.isdir(os.path.join(_HERE, fullname)):
            del _LAZY[fullname]  # unpacked already (an earlier import, or %pip)
            return None
        return ModuleSpec(fullname, _LazyPackageLoader(_LAZY[fullname]), is_package=True)

    @classmethod
    def invalidate_caches(cls):
        pass


def install():
    if LazyPackageFinder not in sys.meta_path:
        sys.meta_path.insert(0, LazyPackageFinder)


install()
