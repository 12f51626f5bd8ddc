"""%pip in the browser (sys.platform == "emscripten"): pure-Python wheels only.

There is no pip and no compiler in the browser, and nothing may block except a
synchronous request from the kernel's worker. This %pip therefore installs wheels
itself: it downloads them (kernel/lite/web_sync_fetch.cpp), checks that they hold no
compiled code, unpacks them into site-packages (MEMFS: gone at reload, as the whole
worker file system is) and lets the import system see them at once.

- `%pip install NAME[==VERSION] ...` takes wheels from the site's wheel index,
  xaccel-wheels/index.json, which `lite/build --wheels DIR` writes (lite/wheel_index.py);
- `%pip install URL` takes a wheel from any URL the browser can fetch (other origins
  need CORS), or a path relative to the site;
- dependencies (Requires-Dist) come from the index; `--no-deps` skips them;
- `%pip list`, `%pip uninstall NAME`.
The native kernel keeps IPython's %pip (the real pip through sys.executable).
"""

import email.parser
import importlib
import importlib.metadata
import io
import json
import os
import posixpath
import re
import shlex
import shutil
import sys
import sysconfig
import urllib.parse
import zipfile

INDEX_URL = "xaccel-wheels/"
WHEEL_NAME = re.compile(
    r"^(?P<name>[^-]+)-(?P<version>[^-]+)(-(?P<build>\d[^-]*))?-(?P<py>[^-]+)-(?P<abi>[^-]+)-(?P<plat>[^-]+)\.whl$")
COMPILED_SUFFIXES = (".so", ".pyd", ".dylib", ".dll", ".wasm")


class PipError(Exception):
    """A %pip failure: shown as its message, without a traceback."""

    def _render_traceback_(self):
        return [f"ERROR: {self}"]


def normalize(name):
    return re.sub(r"[-_.]+", "-", name).lower()


def _version_key(version):
    return tuple((0, int(p)) if p.isdigit() else (-1, p) for p in re.split(r"[.+-]", version))


def _get(url):
    import _xaccel_websync

    try:
        status, final_url, body = _xaccel_websync.get(url)
    except OSError as exc:
        raise PipError(f"could not download {url}: {exc} (is it reachable, and does its server allow "
                       f"cross-origin requests?)") from None
    return status, body


def _site_packages():
    return sysconfig.get_paths()["purelib"]


class _Index:
    def __init__(self):
        self._wheels = None

    def wheels(self):
        if self._wheels is None:
            status, body = _get(INDEX_URL + "index.json")
            if status == 404:
                self._wheels = []
            elif status != 200:
                raise PipError(f"the site's wheel index {INDEX_URL}index.json answered HTTP {status}")
            else:
                self._wheels = json.loads(body).get("wheels", [])
        return self._wheels

    def find(self, name, version=None):
        key = normalize(name)
        found = [w for w in self.wheels() if normalize(w["name"]) == key]
        if version is not None:
            found = [w for w in found if w["version"] == version]
        if not found:
            return None
        return max(found, key=lambda w: _version_key(w["version"]))


def _installed(name):
    try:
        return importlib.metadata.distribution(name)
    except importlib.metadata.PackageNotFoundError:
        return None


# ---- markers (Requires-Dist "; python_version >= '3.8'") ---------------------

_MARKER_ATOM = re.compile(r"""(\w+)\s*(===|==|!=|>=|<=|~=|>|<|not\s+in|in)\s*("[^"]*"|'[^']*')""")


def _environment():
    import platform

    return {
        "python_version": "%d.%d" % sys.version_info[:2],
        "python_full_version": platform.python_version(),
        "sys_platform": sys.platform,
        "platform_system": platform.system(),
        "platform_machine": platform.machine(),
        "os_name": os.name,
        "implementation_name": sys.implementation.name,
        "platform_python_implementation": platform.python_implementation(),
        "extra": "",
    }


def _compare(left, op, right, versions):
    op = " ".join(op.split())
    if op in ("in", "not in"):
        return (left in right) == (op == "in")
    if versions:
        left, right = _version_key(left), _version_key(right)
    if op == "~=":
        return left >= right
    return {"==": left == right, "===": left == right, "!=": left != right, ">=": left >= right,
            "<=": left <= right, ">": left > right, "<": left < right}[op]


def marker_applies(marker):
    """Whether a requirement's environment marker holds here (True if unsure)."""
    env = _environment()

    def atom(m):
        var, op, value = m.group(1), m.group(2), m.group(3)[1:-1]
        if var not in env:
            raise ValueError(var)
        return str(_compare(env[var], op, value, var.endswith("version")))

    try:
        expression = _MARKER_ATOM.sub(atom, marker)
        if not re.fullmatch(r"[\sA-Za-z()]*", expression) or set(re.findall(r"[A-Za-z]+", expression)) - {
                "True", "False", "and", "or", "not"}:
            return True
        return bool(eval(expression, {"__builtins__": {}}))  # only True/False/and/or/not/()
    except (ValueError, SyntaxError):
        return True


# ---- installing ---------------------------------------------------------------


def _requirements(dist_text):
    meta = email.parser.Parser().parsestr(dist_text)
    for req in meta.get_all("Requires-Dist") or []:
        spec, _, marker = req.partition(";")
        if marker.strip() and ("extra" in marker or not marker_applies(marker.strip())):
            continue
        m = re.match(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)", spec)
        if m:
            yield m.group(1)


def install_wheel(data, filename):
    """Unpacks a pure-Python wheel into site-packages. Returns (name, version, requirements)."""
    m = WHEEL_NAME.match(filename)
    if not m:
        raise PipError(f"{filename} is not a wheel file name (NAME-VERSION-PY-ABI-PLATFORM.whl)")
    if m["abi"] != "none" or m["plat"] != "any":
        raise PipError(f"{filename} contains compiled code (built for {m['abi']}/{m['plat']}), which the browser "
                       f"cannot load: only pure-Python wheels (*-none-any.whl) install here")
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile:
        raise PipError(f"{filename} is not a valid wheel (not a zip archive)") from None
    names = archive.namelist()
    compiled = [n for n in names if n.endswith(COMPILED_SUFFIXES)]
    if compiled:
        raise PipError(f"{filename} contains compiled code ({compiled[0]}), which the browser cannot load: "
                       f"only pure-Python wheels install here")
    dist_info = next((n.split("/")[0] for n in names
                      if n.count("/") == 1 and n.endswith(".dist-info/METADATA")), None)
    if dist_info is None:
        raise PipError(f"{filename} has no .dist-info/METADATA")
    wheel_meta = email.parser.Parser().parsestr(archive.read(f"{dist_info}/WHEEL").decode("utf-8", "replace")) \
        if f"{dist_info}/WHEEL" in names else {}
    if str(wheel_meta.get("Root-Is-Purelib", "true")).strip().lower() != "true":
        raise PipError(f"{filename} is not a pure-Python wheel (Root-Is-Purelib: false)")
    metadata = archive.read(f"{dist_info}/METADATA").decode("utf-8", "replace")
    meta = email.parser.Parser().parsestr(metadata)
    name, version = meta.get("Name", m["name"]), meta.get("Version", m["version"])
    existing = _installed(name)
    if existing is not None:
        _remove(existing)
    target = _site_packages()
    data_dir = dist_info[:-len(".dist-info")] + ".data/"
    for member in names:
        if member.endswith("/"):
            continue
        rel = member
        if member.startswith(data_dir):
            kind, _, rest = member[len(data_dir):].partition("/")
            if kind not in ("purelib", "platlib"):
                continue  # scripts, headers, data: nothing runs them in the browser
            rel = rest
        rel = posixpath.normpath(rel)
        if rel.startswith(("/", "../")) or rel == "..":
            raise PipError(f"{filename} holds a path outside site-packages: {member}")
        path = os.path.join(target, rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as out:
            out.write(archive.read(member))
    with open(os.path.join(target, dist_info, "INSTALLER"), "w") as out:
        out.write("xaccel-browser-pip\n")
    importlib.invalidate_caches()
    return name, version, list(_requirements(metadata))


def _remove(dist):
    root = _site_packages()
    removed_dirs = set()
    for file in dist.files or []:
        path = os.path.normpath(os.path.join(root, str(file)))
        if not path.startswith(root + os.sep):
            continue
        try:
            os.remove(path)
        except OSError:
            pass
        removed_dirs.add(os.path.dirname(path))
    for d in sorted(removed_dirs, key=len, reverse=True):
        while d.startswith(root + os.sep):
            try:
                os.rmdir(d)
            except OSError:
                break
            d = os.path.dirname(d)
    info = getattr(dist, "_path", None)
    if info is not None and os.path.isdir(str(info)):
        shutil.rmtree(str(info), ignore_errors=True)
    importlib.invalidate_caches()


def _is_url(spec):
    return "://" in spec or spec.endswith(".whl")


def install(specs, no_deps=False, upgrade=False, out=print):
    index = _Index()
    done = []
    queue = [(spec, None) for spec in specs]
    seen = set()
    while queue:
        spec, needed_by = queue.pop(0)
        if _is_url(spec):
            filename = urllib.parse.unquote(posixpath.basename(urllib.parse.urlparse(spec).path))
            url = spec
        else:
            name, _, version = spec.partition("==")
            name, version = name.strip(), (version.strip() or None)
            if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]*", name):
                raise PipError(f"cannot install {spec!r}: only NAME, NAME==VERSION or a wheel URL work here")
            if normalize(name) in seen:
                continue
            seen.add(normalize(name))
            current = _installed(name)
            if current is not None and not upgrade and (version is None or current.version == version):
                if needed_by is None:
                    out(f"Requirement already satisfied: {name} ({current.version})")
                continue
            entry = index.find(name, version)
            if entry is None:
                wanted = f"{name}=={version}" if version else name
                why = f" (needed by {needed_by})" if needed_by else ""
                raise PipError(f"no wheel for {wanted}{why} in this site's wheel index ({INDEX_URL}index.json, "
                               f"{len(index.wheels())} wheels). Build the site with `lite/build --wheels DIR`, "
                               f"or install a pure-Python wheel from a URL: %pip install https://.../NAME-VERSION-py3-none-any.whl")
            filename = entry["file"]
            url = INDEX_URL + urllib.parse.quote(filename)
        status, body = _get(url)
        if status != 200:
            raise PipError(f"could not download {url}: HTTP {status}")
        name, version, requirements = install_wheel(body, filename)
        seen.add(normalize(name))
        done.append(f"{name}-{version}")
        if not no_deps:
            queue.extend((req, name) for req in requirements if normalize(req) not in seen)
    if done:
        out("Successfully installed " + " ".join(done))


def uninstall(names, out=print):
    for name in names:
        dist = _installed(name)
        if dist is None:
            out(f"WARNING: Skipping {name} as it is not installed.")
            continue
        label = f"{dist.metadata['Name']}-{dist.version}"
        _remove(dist)
        out(f"Successfully uninstalled {label}")


def list_packages(out=print):
    rows = {}
    for dist in importlib.metadata.distributions():
        name = dist.metadata["Name"]
        if name and normalize(name) not in rows:
            rows[normalize(name)] = (name, dist.version)
    rows = sorted(rows.values(), key=lambda r: r[0].lower())
    width = max([len("Package")] + [len(n) for n, _ in rows])
    vwidth = max([len("Version")] + [len(v) for _, v in rows])
    out(f"{'Package':<{width}} {'Version':<{vwidth}}")
    out(f"{'-' * width} {'-' * vwidth}")
    for name, version in rows:
        out(f"{name:<{width}} {version}")


USAGE = "%pip install [--no-deps] [-U] NAME[==VERSION] | URL ... ; %pip uninstall [-y] NAME ... ; %pip list"


def pip_magic(line):
    """%pip in the browser: install pure-Python wheels from the site's wheel index or a URL."""
    try:
        args = shlex.split(line)
    except ValueError as exc:
        raise PipError(f"{exc}: {USAGE}") from None
    if not args:
        raise PipError(f"usage: {USAGE}")
    command, rest = args[0], args[1:]
    flags = {a for a in rest if a.startswith("-")}
    items = [a for a in rest if not a.startswith("-")]
    if command == "install":
        unknown = flags - {"--no-deps", "-U", "--upgrade", "-q", "--quiet", "--force-reinstall", "--no-cache-dir"}
        if unknown:
            raise PipError(f"option {sorted(unknown)[0]} is not supported in the browser: {USAGE}")
        if not items:
            raise PipError(f"nothing to install: {USAGE}")
        quiet = bool(flags & {"-q", "--quiet"})
        install(items, no_deps="--no-deps" in flags, upgrade=bool(flags & {"-U", "--upgrade", "--force-reinstall"}),
                out=(lambda *_: None) if quiet else print)
        print("Note: the package is installed in this browser tab's kernel only (lost when the page reloads).")
    elif command == "uninstall":
        uninstall(items)
    elif command == "list":
        list_packages()
    else:
        raise PipError(f"`pip {command}` is not available in the browser: {USAGE}")
