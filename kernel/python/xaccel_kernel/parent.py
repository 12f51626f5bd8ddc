"""The request that output belongs to (its "parent"), as a context variable.

Every shell request sets it in the context the kernel runs requests in; an
asyncio task copies the context it is created in, so the output and errors of
a task created by cell 1 keep cell 1 as their parent, as in ipykernel 7.
Threads start with an empty context: they fall back on the latest request.
"""

import contextvars

_parent = contextvars.ContextVar("xaccel_parent")
_latest = {}


def set_parent(message):
    """Make `message` (a request: header, parent_header, metadata, content)
    the parent of what the current context publishes from now on."""
    global _latest
    _latest = message
    _parent.set(message)


def set_context_parent(message):
    """Like set_parent, for the current context only (returns a reset token)."""
    return _parent.set(message)


def get_parent():
    """The request of the current context, or the latest request."""
    return _parent.get(_latest)


def header():
    """The header of get_parent(), or None before the first request."""
    return get_parent().get("header") or None


def enter(message):
    """Make `message` the parent for a while (a request handled while a cell
    awaits); leave() with the returned value puts the cell's back."""
    global _latest
    state = (_parent.set(message), _latest)
    _latest = message
    return state


def leave(state):
    global _latest
    token, _latest = state
    _parent.reset(token)
