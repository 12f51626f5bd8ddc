"""`jupyter console --kernel xaccel` in a pseudo-terminal."""

import os
import sys
from pathlib import Path

import pexpect

from kernel_harness import require_kernelspec

ANSI = r"(?:\x1b\[[0-9;?]*[A-Za-z])*"


def prompt(kind, number):
    """A prompt as prompt_toolkit paints it, colour codes between the parts."""
    return rf"{kind}{ANSI} ?{ANSI}\[{ANSI}{number}{ANSI}\]{ANSI}: "


def test_console_shows_out_prompt():
    require_kernelspec()
    jupyter = str(Path(sys.prefix) / "bin" / "jupyter")
    env = dict(os.environ, TERM="xterm", COLUMNS="120", LINES="40")
    child = pexpect.spawn(jupyter, ["console", "--kernel", "xaccel"], env=env,
                          encoding="utf-8", timeout=60, dimensions=(40, 120))
    try:
        child.expect(prompt("In", 1))
        child.sendline("1+1")
        child.expect(prompt("Out", 1) + ANSI + "2")
        child.expect(prompt("In", 2))
        child.sendline("import asyncio; await asyncio.sleep(0.01); 'async ok'")
        child.expect(prompt("Out", 2) + ANSI + "'async ok'")
        child.expect(prompt("In", 3))
        child.sendline("exit")
        child.expect(pexpect.EOF, timeout=30)
    finally:
        child.close(force=True)
