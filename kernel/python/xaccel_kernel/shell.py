"""The IPython shell of the kernel: magics, rich display, tracebacks."""

import asyncio
import sys

from IPython.core.interactiveshell import InteractiveShell, InteractiveShellABC
from traitlets import Any, Bool, Type

import _xaccel

from .cells import CellCompiler
from .display import KernelDisplayHook, KernelDisplayPublisher


class XAccelShell(InteractiveShell):
    displayhook_class = KernelDisplayHook
    display_pub_class = KernelDisplayPublisher
    # Cells get the stable file names the debugger front end computes.
    compiler_class = Type(CellCompiler)

    # The error content of the last failed cell, for its execute_reply.
    last_error = Any(None)
    # Set when an interrupt cancelled the awaited work of the running cell.
    interrupted = Bool(False)

    def init_virtualenv(self):
        # The kernel runs in its environment already; IPython's warning about
        # an outer virtualenv does not apply.
        pass

    def init_hooks(self):
        super().init_hooks()
        from IPython.core import page, payloadpage

        # `obj?` and %page travel as a "page" payload of the execute_reply.
        self.set_hook("show_in_pager", page.as_hook(payloadpage.page), 99)

    def init_io(self):
        # Streams are installed by the engine.
        pass

    def enable_gui(self, gui=None):
        if gui not in (None, "inline"):
            raise NotImplementedError(f"the xaccel kernel has no '{gui}' GUI event loop integration")

    # `!cmd` output goes through sys.stdout, so it reaches the client.
    system = InteractiveShell.system_piped

    def ask_exit(self):
        self.payload_manager.write_payload({"source": "ask_exit", "keepkernel": False})

    def showtraceback(self, exc_tuple=None, filename=None, tb_offset=None, exception_only=False,
                      running_compiled_code=False):
        if exc_tuple is None:
            exc_tuple = sys.exc_info()
        etype, value, tb = exc_tuple
        if self.interrupted and isinstance(value, asyncio.CancelledError):
            # The cell's awaited work was cancelled by an interrupt: say so.
            exc_tuple = (KeyboardInterrupt, KeyboardInterrupt(), tb)
        return super().showtraceback(exc_tuple, filename, tb_offset, exception_only, running_compiled_code)

    def _showtraceback(self, etype, evalue, stb):
        sys.stdout.flush()
        sys.stderr.flush()
        content = {
            "ename": getattr(etype, "__name__", str(etype)),
            "evalue": str(evalue),
            "traceback": list(stb),
        }
        _xaccel.publish("error", content)
        self.last_error = content

    def set_next_input(self, text, replace=False):
        self.payload_manager.write_payload(
            {"source": "set_next_input", "text": text, "replace": replace}
        )


InteractiveShellABC.register(XAccelShell)
