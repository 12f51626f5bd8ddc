"""The magics a kernel has that a terminal IPython has differently or not at
all, as ipykernel 7.4 offers them: %edit (a payload for the front end),
%clear, %less/%more and %man (through the pager payload), %connect_info,
%qtconsole, %autosave and %subshell."""

import importlib.util
import os
import sys
import threading
from pathlib import Path

from IPython.core import page
from IPython.core.error import UsageError
from IPython.core.magic import Magics, line_magic, magics_class
from IPython.core.magics.code import CodeMagics, MacroToEdit
from IPython.display import Javascript, display
from IPython.utils import openpy
from IPython.utils.process import arg_split

import _xaccel


def connection_file():
    """The kernel's connection file, or None (the browser has none)."""
    return getattr(_xaccel, "connection_file", None)


@magics_class
class KernelMagics(Magics):
    @line_magic
    def edit(self, parameter_s="", last_call=None):
        """Open a file, a function's source or lines of history in the front
        end's editor (`%edit [-n N] [-p] [-r] target`, as in IPython).

        The front end opens the file; the kernel cannot know when it is
        closed, so the edited code is not run afterwards."""
        last_call = last_call or ["", ""]
        opts, args = self.parse_options(parameter_s, "prn:")
        try:
            filename, lineno, _ = CodeMagics._find_edit_target(self.shell, args, opts, last_call)
        except MacroToEdit:
            print("Macro editing is not available in a kernel.")
            return
        # Absolute: the front end may run in another working directory.
        self.shell.payload_manager.write_payload(
            {"source": "edit_magic", "filename": str(Path(filename).resolve()), "line_number": lineno})

    @line_magic
    def clear(self, arg_s):
        """Clear the terminal (what a console front end shows)."""
        self.shell.system("clear")

    @line_magic
    def less(self, arg_s):
        """Show a file in the pager (.py files highlighted)."""
        if not arg_s:
            raise UsageError("Missing filename.")
        if arg_s.endswith(".py"):
            text = self.shell.pycolorize(openpy.read_py_file(arg_s, skip_encoding_cookie=False))
        else:
            with open(arg_s) as file:
                text = file.read()
        page.page(text)

    more = line_magic("more")(less)

    @line_magic
    def man(self, arg_s):
        """Show the man page of a command in the pager."""
        page.page(self.shell.getoutput(f"man {arg_s} | col -b", split=False))

    @line_magic
    def connect_info(self, arg_s):
        """Print this kernel's connection file and how to connect another
        client to it (`jupyter console --existing FILE`)."""
        path = connection_file()
        if not path:
            print("This kernel has no connection file: it runs in the browser, without sockets.")
            return
        try:
            text = Path(path).read_text()
        except OSError as error:
            print(f"Cannot read the connection file {path}: {error}", file=sys.stderr)
            return
        shown = path
        try:
            from jupyter_core.paths import jupyter_runtime_dir

            if Path(jupyter_runtime_dir()) == Path(path).parent:
                shown = Path(path).name  # --existing finds it there by name
        except ImportError:
            pass
        print(text + "\n")
        print(
            "Paste the above JSON into a file, and connect with:\n"
            "    $> jupyter <app> --existing <file>\n"
            "or, if you are local, you can connect with just:\n"
            f"    $> jupyter <app> --existing {shown}\n"
            "or even just:\n"
            "    $> jupyter <app> --existing\n"
            "if this is the most recent Jupyter kernel you have started."
        )

    @line_magic
    def qtconsole(self, arg_s):
        """Open a Qt console connected to this kernel."""
        path = connection_file()
        if not path:
            print("A Qt console cannot connect to a kernel in the browser.", file=sys.stderr)
            return
        if importlib.util.find_spec("qtconsole") is None:
            print("Cannot start a Qt console: qtconsole is not installed (pip install qtconsole).",
                  file=sys.stderr)
            return
        import subprocess  # not at import: the browser build has no processes

        subprocess.Popen([sys.executable, "-c", "from qtconsole import qtconsoleapp; qtconsoleapp.main()",
                          "--existing", path, *arg_split(arg_s, os.name == "posix")],
                         start_new_session=True)

    @line_magic
    def autosave(self, arg_s):
        """Set the notebook's autosave interval in seconds (0 turns it off;
        only the classic notebook's front end acts on it)."""
        try:
            interval = int(arg_s)
        except ValueError:
            raise UsageError(f"%autosave requires an integer, got {arg_s!r}") from None
        display(Javascript(f"IPython.notebook.set_autosave_interval({1000 * interval})"),
                include=["application/javascript"])
        print(f"Autosaving every {interval} seconds" if interval else "Autosave disabled")

    @line_magic
    def subshell(self, arg_s):
        """Show which subshell runs this cell, and the kernel's subshells."""
        from . import subshells

        print(f"subshell id: {subshells.current() or 'None'}")
        print(f"thread id: {threading.current_thread().ident}")
        print(f"main thread id: {threading.main_thread().ident}")
        print(f"pid: {os.getpid()}")
        print(f"thread count: {threading.active_count()}")
        print(f"subshell list: {subshells.ids()}")
