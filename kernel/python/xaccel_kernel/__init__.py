"""Python side of the xaccel kernel: the IPython shell, streams, display,
comms and the asyncio loop that the C++ core drives."""

__version__ = "0.1.0"
