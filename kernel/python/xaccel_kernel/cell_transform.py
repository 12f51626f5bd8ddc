"""Fast paths through IPython's cell transforms, for source they cannot change.

For every cell, IPython's static input transforms (inputtransformer2's
TransformerManager: prompt stripping, dedent, `%%cell` magics, then the token
transforms for `%magic`, `!cmd`, `obj?`, `a = %foo`, `a = !cmd`, `,f a b`,
`;f a`, `/f a`) tokenize the source in pure Python, and should_run_async()
compiles it once more to look for top-level `await`. Most cells hold no
IPython syntax at all; for those both answers follow from the text:

- `KernelTransformerManager.transform_cell` returns the cell as IPython's
  would (with its final newline, whitespace-only lines emptied as dedent
  does) when nothing in the text is something a default transform acts on
  (_SPECIAL is a superset of what they look for). One more case: the
  pure-Python tokenizer raises IndentationError on an inconsistent dedent,
  and IPython then reports a transform failure; so a cell with indented
  lines must also parse (the C parser rejects every such dedent), and it is
  parsed only when that cannot print a warning (_PARSE_MAY_WARN) that
  IPython's own parse of the cell would print again.
  Anything else, or transforms other than the defaults: IPython's code.
- `cannot_await(cell)`: top-level code is a coroutine only if it holds an
  `await` or `async` keyword; without either word (ASCII source, so no
  look-alike characters) should_run_async() is False.

The dynamic single-line prefilter (automagics, autocall, macros) depends on
the user's namespace and always runs as IPython runs it.
"""

import ast
import re

from IPython.core import inputtransformer2 as it2

# Any of these means a default static transform might change the text:
# - a character outside printable ASCII, tab and newline (other line breaks
#   such as \r, \f or \x1c make splitlines() differ from the tokenizer);
# - a line whose first non-blank character starts an escaped command
#   (`%magic`, `,quote`, `;quote`, `/call`; `!` and `?` anywhere are below);
# - `!` that is not `!=` (`!cmd`, `a = !cmd`), any `?` (`obj?`, `?obj`);
# - `%` after `=` and blanks or continuations (`a = %magic`);
# - a doctest prompt (`>>>`) or an IPython prompt (`In [1]: `, `...: `).
_SPECIAL = re.compile(r"[^\t\n\x20-\x7e]|^[ \t]*[,;/%]|!(?!=)|\?|=[\s\\]*%|>>>|In \[|\.\.\.:", re.MULTILINE)
# textwrap.dedent (IPython's leading_indent) empties whitespace-only lines.
_BLANK_LINE = re.compile(r"^[ \t]+$", re.MULTILINE)
# A line that starts indented: only then can a dedent be inconsistent.
_INDENTED = re.compile(r"^[ \t]+[^ \t\n]", re.MULTILINE)
# What Python 3.11's parser warns about (DeprecationWarning): an escape
# sequence it does not know (any backslash but the valid escapes, also a line
# continuation), a number followed at once by a keyword (`1if`).
_PARSE_MAY_WARN = re.compile(r"\\[^\\'\"abfnrtv0-7x]|(?<![A-Za-z0-9_])[0-9][A-Za-z0-9_.]*?(?:and|else|for|if|in|is|not|or)")

_DEFAULTS = (
    [it2.leading_empty_lines, it2.leading_indent, it2.classic_prompt, it2.ipython_prompt],
    [it2.cell_magic],
    [it2.MagicAssign, it2.SystemAssign, it2.EscapedCommand, it2.HelpEnd],
)


def plain_transform(cell):
    """What IPython's default static transforms make of `cell`, or None if
    they might do more than add the final newline and empty blank lines."""
    if not cell or cell[0] in " \t\n" or _SPECIAL.search(cell) is not None:
        # (A blank or indented first line: leading_empty_lines or
        # leading_indent may change the text.)
        return None
    if _INDENTED.search(cell) is not None:
        if _PARSE_MAY_WARN.search(cell) is not None:
            return None
        try:
            compile(cell, "<cell>", "exec", ast.PyCF_ONLY_AST)
        except (SyntaxError, ValueError, MemoryError, RecursionError):
            return None
    if not cell.endswith("\n"):
        cell += "\n"
    if _BLANK_LINE.search(cell) is not None:
        cell = _BLANK_LINE.sub("", cell)
    return cell


class KernelTransformerManager(it2.TransformerManager):
    """IPython's static transforms, skipped for cells they leave as they are."""

    def transform_cell(self, cell):
        if (self.cleanup_transforms, self.line_transforms, self.token_transformers) == _DEFAULTS:
            plain = plain_transform(cell)
            if plain is not None:
                return plain
        return super().transform_cell(cell)


def cannot_await(cell):
    """True when `cell` cannot be top-level asynchronous code."""
    return cell.isascii() and "await" not in cell and "async" not in cell
