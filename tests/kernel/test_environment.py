"""The kernel's Python environment as ipykernel's: sys.executable is a real
Python of the kernel's venv (pip, subprocess, multiprocessing), and the
working directory is importable."""

import base64
import hashlib
import json
import uuid
import zipfile

import pytest

from kernel_harness import execute, start_kernel, stop_kernel, stream_text


def _value(kc, expression):
    reply, outputs = execute(kc, f"import json as _json, sys, os\nprint(_json.dumps({expression}))")
    assert reply["status"] == "ok", reply
    return json.loads(stream_text(outputs))


def test_sys_executable_is_a_python_of_the_same_venv(shared_kernel):
    km, kc = shared_kernel
    info = _value(kc, "dict(executable=sys.executable, prefix=sys.prefix, base_prefix=sys.base_prefix, "
                      "base_executable=sys._base_executable, access=os.access(sys.executable, os.X_OK))")
    assert info["access"], info
    assert info["prefix"] != info["base_prefix"], "the kernel runs in a venv"
    assert info["executable"].startswith(info["prefix"] + "/bin/python"), info
    # That interpreter really is a Python of this venv.
    child = _value(kc, "__import__('subprocess').run([sys.executable, '-c', "
                       "'import sys, json; print(json.dumps([sys.prefix, sys.version]))'], "
                       "capture_output=True, text=True, check=True).stdout.strip()")
    prefix, version = json.loads(child)
    assert prefix == info["prefix"]
    assert version == _value(kc, "sys.version")


def _wheel(directory, name):
    """A minimal pure-Python wheel, made here: no build tools, no network."""
    version = "1.0"
    dist_info = f"{name}-{version}.dist-info"
    files = {
        f"{name}/__init__.py": f"VALUE = {name!r}\n".encode(),
        f"{dist_info}/METADATA": f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n".encode(),
        f"{dist_info}/WHEEL": b"Wheel-Version: 1.0\nGenerator: xaccel-tests\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
    }
    record = []
    for path, data in files.items():
        digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
        record.append(f"{path},sha256={digest},{len(data)}")
    record.append(f"{dist_info}/RECORD,,")
    files[f"{dist_info}/RECORD"] = ("\n".join(record) + "\n").encode()
    path = directory / f"{name}-{version}-py3-none-any.whl"
    with zipfile.ZipFile(path, "w") as wheel:
        for member, data in files.items():
            wheel.writestr(member, data)
    return path


def test_pip_magic_installs_into_the_venv_and_the_package_imports(shared_kernel, tmp_path):
    km, kc = shared_kernel
    name = f"xaccel_pip_probe_{uuid.uuid4().hex[:8]}"
    wheel = _wheel(tmp_path, name)
    try:
        reply, outputs = execute(kc, f"%pip install --no-index --no-deps {wheel}", timeout=180)
        assert reply["status"] == "ok", (reply, outputs)
        assert f"Successfully installed {name.replace('_', '-')}-1.0" in stream_text(outputs).replace("_", "-")
        location = _value(kc, f"__import__({name!r}).__file__")
        assert location.startswith(_value(kc, "sys.prefix") + "/lib/")
        assert _value(kc, f"__import__({name!r}).VALUE") == name
    finally:
        reply, outputs = execute(kc, f"%pip uninstall -y {name}", timeout=180)
        assert reply["status"] == "ok", (reply, outputs)


@pytest.mark.parametrize("method", ["spawn", "forkserver", "fork"])
def test_process_pool_executor(shared_kernel, tmp_path, method):
    km, kc = shared_kernel
    if method == "fork":
        # fork: a function defined in a cell works, as in ipykernel.
        setup = "def work(x):\n    return x * x\n"
    else:
        # spawn and forkserver import the function by name in a fresh Python.
        module = f"pool_helpers_{uuid.uuid4().hex[:8]}"
        (tmp_path / f"{module}.py").write_text("def work(x):\n    return x * x\n")
        setup = f"import sys\nsys.path.insert(0, {str(tmp_path)!r})\nfrom {module} import work\n"
    code = setup + (
        "import multiprocessing\n"
        "from concurrent.futures import ProcessPoolExecutor\n"
        f"with ProcessPoolExecutor(2, mp_context=multiprocessing.get_context({method!r})) as pool:\n"
        "    print(list(pool.map(work, range(6))))\n"
    )
    reply, outputs = execute(kc, code, timeout=180)
    assert reply["status"] == "ok", (reply, outputs)
    assert stream_text(outputs) == "[0, 1, 4, 9, 16, 25]\n"


def test_a_module_next_to_the_notebook_imports(tmp_path):
    (tmp_path / "localmod.py").write_text("WHERE = 'next to the notebook'\n")
    km, kc = start_kernel(cwd=str(tmp_path))
    try:
        reply, outputs = execute(kc, "import localmod\nprint(localmod.WHERE)")
        assert reply["status"] == "ok", reply
        assert stream_text(outputs) == "next to the notebook\n"
        # Where ipykernel puts it: '' before the first site-packages, so the
        # standard library cannot be shadowed.
        path = _value(kc, "sys.path")
        index = path.index("")
        assert not any(p.endswith(("site-packages", "dist-packages")) for p in path[:index])
        assert path[index + 1].endswith("site-packages"), path
    finally:
        stop_kernel(km, kc)
