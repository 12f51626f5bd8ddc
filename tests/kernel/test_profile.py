"""The user's IPython profile applies as with ipykernel 7.4: its configuration
files (ipython_config.py, then ipython_kernel_config.py), the extensions they
name, $PYTHONSTARTUP, the profile's startup files and exec_lines; a broken
file is logged and the kernel starts anyway.
(`XACCEL_TEST_KERNEL=python3` runs the same checks against ipykernel; only
the log of a failing startup file is xaccel's own.)"""

import os
import textwrap
from pathlib import Path

from kernel_harness import eventually, execute, own_ipython_dir, start_kernel, stop_kernel, value_of


def write(path, text):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text))


def start_with_profile(tmp_path, files, log=None):
    ipython_dir = Path(own_ipython_dir())
    for name, text in files.items():
        write(ipython_dir / "profile_default" / name, text)
    env = dict(os.environ, IPYTHONDIR=str(ipython_dir))
    startup = tmp_path / "pythonstartup.py"
    write(startup, "from_pythonstartup = 'yes'\n")
    env["PYTHONSTARTUP"] = str(startup)
    return start_kernel(env=env, stderr=log)


def test_configuration_extensions_and_startup_code_apply(tmp_path):
    km, kc = start_with_profile(tmp_path, {
        "ipython_config.py": """
            c.InteractiveShell.ast_node_interactivity = "all"
            c.InteractiveShell.xmode = "Minimal"
        """,
        "ipython_kernel_config.py": """
            c.InteractiveShellApp.extensions = ["autoreload"]
            c.IPKernelApp.exec_lines = ["from_exec_lines = 6 * 7"]
            c.ZMQInteractiveShell.xmode = "Plain"
        """,
        "startup/00-first.py": "from_startup = [1]\n",
        "startup/10-second.ipy": "%config InteractiveShell.colors = 'nocolor'\nfrom_startup.append(2)\n",
    })
    try:
        assert value_of(kc, "from_exec_lines") == "42"
        assert value_of(kc, "from_startup") == "[1, 2]"
        assert value_of(kc, "from_pythonstartup") == "'yes'"
        assert value_of(kc, "'IPython.extensions.autoreload' in get_ipython().extension_manager.loaded") == "True"
        # The kernel file overrides the base file; ipykernel's shell class
        # name reaches xaccel's shell.
        assert value_of(kc, "get_ipython().xmode") == "'Plain'"
        # ast_node_interactivity "all": both expressions are shown.
        _, outputs = execute(kc, "1 + 1\n2 + 2")
        results = [o["content"]["data"]["text/plain"] for o in outputs if o["msg_type"] == "execute_result"]
        assert results == ["2", "4"]
        # What the startup code defined is hidden from %who, as in ipykernel.
        who = value_of(kc, "get_ipython().run_line_magic('who_ls', '')")
        assert "from_startup" not in who and "from_exec_lines" not in who
        # storemagic, loaded by default.
        reply, _ = execute(kc, "kept = 5\n%store kept")
        assert reply["status"] == "ok", reply
    finally:
        stop_kernel(km, kc)


def test_broken_profile_files_are_logged_and_the_kernel_starts(tmp_path):
    log_path = tmp_path / "kernel.log"
    with open(log_path, "w") as log:
        km, kc = start_with_profile(tmp_path, {
            "ipython_kernel_config.py": """
                c.InteractiveShellApp.extensions = ["no_such_extension_xyz"]
                c.IPKernelApp.exec_lines = ["after_bad_line = 1", "1 / 0"]
            """,
            "startup/00-raises.py": "raise RuntimeError('startup file failed')\n",
            "startup/10-runs.py": "runs_after_failure = True\n",
        }, log=log)
        try:
            assert value_of(kc, "after_bad_line") == "1"
            reply, _ = execute(kc, "6 * 7")
            assert reply["status"] == "ok", reply
            # Both named in the kernel's log (ipykernel logs the extension
            # only: the startup file's traceback goes to iopub before any
            # request, where no notebook shows it).
            assert eventually(lambda: "no_such_extension_xyz" in log_path.read_text()
                              and "RuntimeError: startup file failed" in log_path.read_text())
        finally:
            stop_kernel(km, kc)


def test_a_config_file_with_a_syntax_error_is_logged(tmp_path):
    log_path = tmp_path / "kernel.log"
    with open(log_path, "w") as log:
        km, kc = start_with_profile(tmp_path, {"ipython_kernel_config.py": "c.InteractiveShell.xmode = (\n"},
                                    log=log)
        try:
            assert value_of(kc, "6 * 7") == "42"
            assert eventually(lambda: "ipython_kernel_config.py" in log_path.read_text())
        finally:
            stop_kernel(km, kc)
