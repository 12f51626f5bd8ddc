"""The user's IPython profile, as ipykernel applies it: configuration files,
extensions, startup files and exec_lines.

ipykernel's kernel application is an IPython application named
``ipython-kernel``: it reads ``ipython_config.py`` and then
``ipython_kernel_config.py`` (or their ``.json`` forms) from the profile
directory and IPython's system config directories, loads the configured
extensions, runs ``$PYTHONSTARTUP``, ``profile_default/startup/*.py|*.ipy``,
``exec_lines`` and ``exec_files`` in the user's namespace and hides what they
define from ``%who``. ``KernelProfile`` does the same with IPython's own
application classes, so the rules (search paths, order, error handling) are
IPython's. Settings written for ipykernel's classes apply to xaccel's:
``c.IPKernelApp.*`` to this application, ``c.ZMQInteractiveShell.*`` to the
shell.

Errors in a configuration file, an extension or a startup file are logged on
the kernel's stderr (a failing startup file's traceback also goes to iopub, as
with ipykernel) and the kernel starts anyway.
"""

import logging
import re

from IPython.core.application import BaseIPythonApplication
from IPython.core.shellapp import InteractiveShellApp
from traitlets import Unicode, default

from . import diagnostics

_ANSI = re.compile(r"\x1b\[[0-9;]*m")


class KernelProfile(BaseIPythonApplication, InteractiveShellApp):
    name = Unicode("ipython-kernel")  # reads ipython_kernel_config.py, as ipykernel does

    def load(self, kernel_config):
        """The user's configuration, over `kernel_config` (the kernel's own
        defaults, which the user may change)."""
        self.init_profile_dir()
        self.init_config_files()
        self.load_config_file()
        config = kernel_config.copy()
        config.merge(self.config)
        # ipykernel's class names, for files written for it.
        for ours, theirs in (("KernelProfile", "IPKernelApp"), ("XAccelShell", "ZMQInteractiveShell")):
            if theirs in config:
                config[ours].merge(config[theirs])
        self.update_config(config)
        return self.config

    def run(self, shell):
        """Extensions, the gui/matplotlib choice and the startup code, in `shell`."""
        self.shell = shell
        self.init_extensions()
        try:
            self.init_gui_pylab()
        except Exception:  # noqa: BLE001 - a bad choice must not stop the kernel
            self.log.warning("the configured gui/matplotlib could not be enabled", exc_info=True)
        # A failing startup file's traceback goes to iopub before any client
        # request (no notebook shows it): the log gets it too.
        show = shell._showtraceback

        def show_and_log(etype, evalue, stb):
            diagnostics.log(_ANSI.sub("", "\n".join(stb)))
            show(etype, evalue, stb)

        shell._showtraceback = show_and_log
        try:
            self.init_code()
        finally:
            del shell._showtraceback

    @default("log")
    def _kernel_log(self):
        # The kernel's stderr (its log), never a cell's output.
        log = logging.getLogger("xaccel.profile")
        if not log.handlers:
            handler = logging.StreamHandler(_DiagnosticsStream())
            handler.setFormatter(logging.Formatter("xaccel: %(message)s"))
            log.addHandler(handler)
            log.propagate = False
        log.setLevel(logging.WARNING)
        return log


class _DiagnosticsStream:
    """A file for logging that writes to the kernel's diagnostics."""

    def write(self, text):
        diagnostics.log(text)

    def flush(self):
        pass
