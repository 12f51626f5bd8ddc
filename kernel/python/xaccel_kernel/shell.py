"""The IPython shell of the kernel: magics, rich display, tracebacks."""

import asyncio
import os
import sys

from IPython.core.interactiveshell import InteractiveShell, InteractiveShellABC
from traitlets import Any, Type, default

import _xaccel

from . import interrupts
from . import parent as parents
from .cell_transform import KernelTransformerManager, cannot_await
from .cells import CellCompiler
from .display import KernelDisplayHook, KernelDisplayPublisher


class XAccelShell(InteractiveShell):
    displayhook_class = KernelDisplayHook
    display_pub_class = KernelDisplayPublisher
    # Cells get the stable file names the debugger front end computes, by
    # content: identical cells share one source-cache entry (see cells.py).
    compiler_class = Type(CellCompiler)

    # Per-cell state, set several times for every cell: plain attributes,
    # since nothing observes them (a trait set validates and notifies; with
    # the history's `_i` variables and the display hook's result, these were
    # 50 us of a 690 us `pass` round trip, interleaved A/B at real-time priority).
    execution_count = 1
    last_execution_succeeded = True
    last_execution_result = None
    # The error content of the last failed cell, for its execute_reply.
    last_error = None
    # Set when an interrupt cancelled the awaited work of the running cell.
    interrupted = False
    # The kernel object libraries use (kernel_object.Kernel), set by the engine.
    kernel = Any(None)

    # The request output belongs to, as ipykernel's shell offers it (the
    # Output widget of ipywidgets reads and sets it).
    def get_parent(self):
        return parents.get_parent()

    def set_parent(self, parent):
        parents.set_parent(parent)

    @default("input_transformer_manager")
    def _default_input_transformer_manager(self):
        # IPython's transforms, skipped where they cannot change the cell.
        return KernelTransformerManager()

    def should_run_async(self, raw_cell, *, transformed_cell=None, preprocessing_exc_tuple=None):
        # IPython compiles the cell once more to find a top-level await;
        # without the words `await` and `async` there is none.
        if transformed_cell is not None and cannot_await(transformed_cell):
            return False
        return super().should_run_async(raw_cell, transformed_cell=transformed_cell,
                                        preprocessing_exc_tuple=preprocessing_exc_tuple)

    def init_virtualenv(self):
        # The kernel runs in its environment already; IPython's warning about
        # an outer virtualenv does not apply.
        pass

    def init_history(self):
        # History that survives its database file being moved or replaced.
        from .history import KernelHistoryManager

        self.history_manager = KernelHistoryManager(shell=self, parent=self)
        self.configurables.append(self.history_manager)

    def init_hooks(self):
        super().init_hooks()
        from IPython.core import page, payloadpage

        # `obj?` and %page travel as a "page" payload of the execute_reply.
        self.set_hook("show_in_pager", page.as_hook(payloadpage.page), 99)

    def init_io(self):
        # Streams are installed by the engine.
        pass

    def init_magics(self):
        super().init_magics()
        from .kernel_magics import KernelMagics

        self.register_magics(KernelMagics)

    def init_environment(self):
        # As ipykernel: colours in the output of tools that run from a cell
        # (no terminal there to ask), and no pager that waits for keys.
        os.environ.update({"TERM": "xterm-color", "CLICOLOR": "1", "FORCE_COLOR": "1", "CLICOLOR_FORCE": "1",
                           "PAGER": "cat", "GIT_PAGER": "cat"})

    def enable_gui(self, gui=None):
        # The kernel's asyncio loop runs between cells already: `%gui asyncio`
        # (which ipykernel needs for that) has nothing left to do.
        if gui not in (None, "inline", "asyncio"):
            raise NotImplementedError(f"the xaccel kernel has no '{gui}' GUI event loop integration")
        self.active_eventloop = gui

    # `!cmd` output goes through sys.stdout, so it reaches the client.
    system = InteractiveShell.system_piped

    def ask_exit(self):
        self.payload_manager.write_payload({"source": "ask_exit", "keepkernel": False})

    async def run_code(self, code_obj, result=None, *, async_=False):
        # An interrupt that came before the code (xaccel_kernel/interrupts.py)
        # stops it before its first statement.
        with interrupts.cell_code() as stop:
            if stop:
                code_obj, async_ = _raise_keyboard_interrupt_at(code_obj), False
            return await super().run_code(code_obj, result, async_=async_)

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
        _xaccel.publish("error", content, None, None, parents.header())
        self.last_error = content

    def set_next_input(self, text, replace=False):
        self.payload_manager.write_payload(
            {"source": "set_next_input", "text": text, "replace": replace}
        )


def _raise_keyboard_interrupt_at(code_obj):
    """Code that raises KeyboardInterrupt on the first line of `code_obj`, in
    its file: the traceback then shows the cell's line, as for a real stop."""
    line = next((n for _, _, n in code_obj.co_lines() if n), 1)
    return compile("\n" * (line - 1) + "raise KeyboardInterrupt", code_obj.co_filename, "exec")


InteractiveShellABC.register(XAccelShell)
