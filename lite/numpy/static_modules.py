#!/usr/bin/env python3
"""Turn a meson cross build of numpy into static libraries for a wasm CPython without dlopen.

    static_modules.py BUILD_DIR OUT_DIR --ext-suffix .cpython-311-wasm32-emscripten.so \
        --nm llvm-nm --ar emar --cc emcc --include PY_INCLUDE [--exclude REGEX ...]

build.ninja names, for every extension module, the objects and static libraries its link
step uses. This writes to OUT_DIR:
  lib/libnumpy-modules.a    the modules' own objects + numpy_inittab.o
  lib/libnumpy-test-modules.a  the same for the modules only numpy's tests import
                            (_multiarray_tests, _umath_tests, _simd, ...) + numpy_test_inittab.o
  lib/<n>-<name>.a          numpy's internal static libraries (npymath, highway, ...),
                            each once
  link-libs.txt             the archives numpy itself needs, one per line, in link order
                            (relative to OUT_DIR, so that the directory can be moved)
  test-link-libs.txt        the further archives of the test modules
  numpy_inittab.c           xaccel_numpy_append_inittab(): PyImport_AppendInittab for
                            each module under its dotted name
  numpy_test_inittab.c      xaccel_numpy_append_test_inittab(): the same for the test modules
  modules.txt               dotted module names (test modules after the others)
The browser kernel links link-libs.txt only; the node runner, which runs numpy's tests,
links both lists and calls both functions.
An object of a test module compiled from the same source as an object already taken (same
global symbols) is left out; any other symbol a module defines that an earlier module or
a library already defines is renamed in all that module's objects (see rename_symbols); or two modules with
the same PyInit_ name, is an error (they would clash in one binary).
"""
import argparse
import os
import re
import shutil
import subprocess
import sys


def ninja_statements(path):
    """Yield the logical lines of build.ninja (joining `$` line continuations)."""
    with open(path, encoding="utf-8") as f:
        pending = ""
        for line in f:
            line = line.rstrip("\n")
            if line.endswith("$") and not line.endswith("$$"):
                pending += line[:-1]
                continue
            yield pending + line
            pending = ""


def split_ninja_paths(text):
    """Split a ninja path list, honouring `$ ` / `$:` / `$$` escapes."""
    out, cur, i = [], "", 0
    while i < len(text):
        c = text[i]
        if c == "$" and i + 1 < len(text):
            cur += text[i + 1]
            i += 2
            continue
        if c == " ":
            if cur:
                out.append(cur)
            cur = ""
        else:
            cur += c
        i += 1
    if cur:
        out.append(cur)
    return out


def link_steps(build_dir, ext_suffix):
    """{module output path: [objects and static libraries]} for each extension module's
    link step: objects are its explicit inputs, static libraries are in its LINK_ARGS."""
    steps, current = {}, None
    for st in ninja_statements(os.path.join(build_dir, "build.ninja")):
        if current is not None and st.startswith(" ") and st.strip().startswith("LINK_ARGS = "):
            steps[current] += [t for t in split_ninja_paths(st.strip()[len("LINK_ARGS = "):]) if t.endswith(".a")]
            continue
        if not st.startswith(" "):
            current = None
        if not st.startswith("build "):
            continue
        m = re.match(r"build (.+?(?<!\$)): (\S+) (.*)", st)
        if not m or not m.group(2).endswith("_LINKER"):
            continue
        (output,) = split_ninja_paths(m.group(1))
        if not output.endswith(ext_suffix):
            continue
        explicit = m.group(3).split(" | ")[0].split(" || ")[0]
        steps[output] = split_ninja_paths(explicit)
        current = output
    return steps


def defined_globals(nm, paths):
    """{object path: set of strong global symbols it defines}. Weak definitions (C++
    template instances, inline functions) may repeat across objects: the linker keeps one."""
    out = {p: set() for p in paths}
    if not paths:
        return out
    res = subprocess.run([nm, "--defined-only", "--extern-only", "-P", "--print-file-name", *paths],
                         check=True, capture_output=True, text=True)
    for line in res.stdout.splitlines():
        path, _, rest = line.rpartition(": ")
        fields = rest.split()
        if path in out and len(fields) >= 2 and fields[1] not in ("W", "w", "V", "v"):
            out[path].add(fields[0])
    return out


def archive_globals(nm, lib):
    """Strong global symbols defined by the members of a static library."""
    res = subprocess.run([nm, "--defined-only", "--extern-only", "-P", lib], check=True, capture_output=True, text=True)
    return {f[0] for f in (l.split() for l in res.stdout.splitlines()) if len(f) >= 2 and f[1] not in ("W", "w", "V", "v")}


def rename_symbols(obj, mapping, out_dir):
    """Copy a wasm object with each symbol in `names` (defined or referenced) renamed to a
    same-length name (`mapping`), so that a module keeps its own copy of a function
    another module or library also defines (harmless between shared libraries, a clash
    when all modules share one binary): Cython 3.1's __pyx_CommonTypesMetaclass_get_module,
    numpy.random.mtrand's legacy build of distributions.c. A wasm object names a symbol only as a length-prefixed string (its
    symbol table, the name section); relocations use indices, so a same-length rename of
    those strings renames the symbol."""
    data = open(obj, "rb").read()
    for name, new in mapping.items():
        old_b, new_b = name.encode(), new.encode()
        assert len(old_b) == len(new_b) < 128
        data = data.replace(bytes([len(old_b)]) + old_b, bytes([len(new_b)]) + new_b)
    os.makedirs(out_dir, exist_ok=True)
    out = os.path.join(out_dir, os.path.basename(obj))
    with open(out, "wb") as f:
        f.write(data)
    return out


def source_name(obj):
    """The source a meson object was compiled from (`src_common_mem_overlap.c.o` -> that)."""
    return os.path.basename(obj)


INITTAB_HEAD = """\
/* Generated by lite/numpy/static_modules.py: numpy's extension modules, linked into the
 * interpreter, registered as built-in modules under their dotted names. */
#include <Python.h>

/* Like CPython's dynamic loader: the package context gives a single-phase module its
 * full name (numpy._core._multiarray_umath rather than _multiarray_umath). */
static PyObject *init_in_package(const char *name, PyObject *(*init)(void))
{
    const char *saved = _Py_PackageContext;
    _Py_PackageContext = name;
    PyObject *module = init();
    _Py_PackageContext = saved;
    return module;
}
"""


def write_inittab(path, function, modules):
    lines = [INITTAB_HEAD]
    for i, (name, init) in enumerate(modules):
        lines.append(f"PyMODINIT_FUNC {init}(void);\n")
        lines.append(f'static PyObject *init_{i}(void) {{ return init_in_package("{name}", {init}); }}\n')
    lines.append(f"\nint {function}(void)\n{{\n")
    for i, (name, _) in enumerate(modules):
        lines.append(f'    if (PyImport_AppendInittab("{name}", init_{i}) != 0) return -1;\n')
    lines.append("    return 0;\n}\n")
    with open(path, "w", encoding="utf-8") as f:
        f.write("".join(lines))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("build_dir")
    ap.add_argument("out_dir")
    ap.add_argument("--ext-suffix", required=True)
    ap.add_argument("--nm", required=True)
    ap.add_argument("--ar", required=True)
    ap.add_argument("--cc", required=True)
    ap.add_argument("--include", required=True)
    ap.add_argument("--exclude", action="append", default=[], help="regex of dotted module names to leave out")
    a = ap.parse_args()

    steps = link_steps(a.build_dir, a.ext_suffix)
    if not steps:
        sys.exit(f"no extension module link steps found in {a.build_dir}/build.ninja")
    modules, objects, libs, owner, inits, shared, renamed = [], {}, [], {}, {}, 0, 0
    lib_users = {}  # internal library -> modules linking it

    def test_module(name):
        return name.endswith("_tests") or name.endswith("._simd")

    # numpy's own modules first: a test module (_multiarray_tests) compiles some of
    # _multiarray_umath's sources again; those objects are left out (same source, same
    # symbols) so the one binary has each symbol once.
    for output in sorted(steps, key=lambda o: (test_module(o[: -len(a.ext_suffix)].replace("/", ".")), o)):
        name = output[: -len(a.ext_suffix)].replace("/", ".")
        if any(re.search(x, name) for x in a.exclude):
            continue
        init = "PyInit_" + name.rsplit(".", 1)[-1]
        if init in inits:
            sys.exit(f"{name} and {inits[init]} both define {init}")
        inits[init] = name
        objs = [os.path.join(a.build_dir, p) for p in steps[output] if p.endswith(".o")]
        for p in steps[output]:
            lib = os.path.join(a.build_dir, p)
            if p.endswith(".a"):
                lib_users.setdefault(lib, []).append(name)
            if p.endswith(".a") and lib not in libs:
                libs.append(lib)
                for sym in archive_globals(a.nm, lib):
                    owner.setdefault(sym, ("library", lib))
        kept, clash_all = {}, set()
        for obj, syms in defined_globals(a.nm, objs).items():
            clash = {s for s in syms if s in owner}
            if clash:
                same_source = {source_name(owner[s][1]) for s in clash} == {source_name(obj)}
                from_module = all(owner[s][0] != "library" for s in clash)
                if clash == syms and same_source and from_module:
                    shared += 1
                    continue
                clash_all |= clash
            kept[obj] = syms
        if clash_all:
            mapping = {}
            for sym in sorted(clash_all):
                renamed += 1
                mapping[sym] = sym[:-3] + f"{renamed:03x}"  # unique: a counter over all renames
                assert mapping[sym] not in owner and len(sym) > 6
            fixed = {}
            for obj, syms in kept.items():
                new_obj = rename_symbols(obj, mapping, os.path.join(a.out_dir, "renamed", name))
                fixed[new_obj] = defined_globals(a.nm, [new_obj])[new_obj]
            kept = fixed
        for obj, syms in kept.items():
            for sym in syms:
                if sym in owner:
                    sys.exit(f"global symbol {sym} of {name} ({obj}) still clashes with {owner[sym]}")
                owner[sym] = (name, obj)
            objects.setdefault(name, []).append(obj)
        modules.append((name, init))

    libdir = os.path.join(a.out_dir, "lib")
    os.makedirs(libdir, exist_ok=True)
    groups = {False: [m for m in modules if not test_module(m[0])], True: [m for m in modules if test_module(m[0])]}
    link_libs = {False: [], True: []}
    for tests, stem, function in ((False, "numpy_inittab", "xaccel_numpy_append_inittab"),
                                  (True, "numpy_test_inittab", "xaccel_numpy_append_test_inittab")):
        write_inittab(os.path.join(a.out_dir, stem + ".c"), function, groups[tests])
        inittab_o = os.path.join(a.out_dir, stem + ".o")
        subprocess.run([a.cc, "-O2", "-fPIC", "-I", a.include, "-c", os.path.join(a.out_dir, stem + ".c"), "-o", inittab_o],
                       check=True)
        archive = os.path.join(libdir, "libnumpy-test-modules.a" if tests else "libnumpy-modules.a")
        if os.path.exists(archive):
            os.remove(archive)
        subprocess.run([a.ar, "qcs", archive, inittab_o, *(o for n, _ in groups[tests] for o in objects.get(n, []))],
                       check=True)
        link_libs[tests].append(archive)
    for i, lib in enumerate(libs):
        dest = os.path.join(libdir, f"{i:02d}-{os.path.basename(lib)}")
        if os.path.exists(dest):
            os.remove(dest)
        with open(lib, "rb") as f:
            thin = f.read(8) == b"!<thin>\n"
        if thin:  # meson's thin archives name their members relative to the build tree
            members = subprocess.run([a.ar, "t", lib], check=True, capture_output=True, text=True).stdout.split()
            base = os.path.dirname(lib)
            subprocess.run([a.ar, "qcs", dest, *(m if os.path.isabs(m) else os.path.join(base, m) for m in members)],
                           check=True)
        else:
            shutil.copyfile(lib, dest)
        link_libs[all(test_module(n) for n in lib_users[lib])].append(dest)
    for tests, listing in ((False, "link-libs.txt"), (True, "test-link-libs.txt")):
        with open(os.path.join(a.out_dir, listing), "w", encoding="utf-8") as f:
            f.write("".join(os.path.relpath(p, a.out_dir) + "\n" for p in link_libs[tests]))
    with open(os.path.join(a.out_dir, "modules.txt"), "w", encoding="utf-8") as f:
        f.write("".join(n + "\n" for n, _ in groups[False] + groups[True]))
    print(f"{len(modules)} modules ({len(groups[True])} only for numpy's tests), "
          f"{sum(map(len, objects.values()))} objects ({shared} left out as already linked, "
          f"{renamed} symbols renamed), {len(libs)} internal libraries")


if __name__ == "__main__":
    main()
