"""The launcher side of the kernelspec: a jupyter_client kernel provisioner.

It runs in the client's process (Jupyter server, console, nbclient), not in
the kernel. A client connects as soon as the kernel process exists, a few
milliseconds before any kernel can listen, and ZeroMQ then waits its
reconnect interval (100-200 ms) before it tries again. So this provisioner
listens on the shell, iopub, control and stdin ports itself, starts the
kernel with those sockets (XACCEL_LISTEN_FDS), and closes its own copies:
early connections wait in the backlog until the kernel's ZeroMQ sockets
adopt the listeners (kernel/native/inherited_listeners.hpp). The ports are
also never free between their choice and the kernel's bind.

Anything it cannot do (another transport, a non-numeric address, a port
already taken) leaves that channel to the kernel, which binds it as usual.
"""
import ipaddress
import socket

from jupyter_client.provisioning import LocalProvisioner

HANDED_OVER = ("shell", "iopub", "control", "stdin")
ENVIRONMENT_VARIABLE = "XACCEL_LISTEN_FDS"
BACKLOG = 100  # ZeroMQ's default ZMQ_BACKLOG


def listen(ip, port):
    """A listening TCP socket on ip:port, set up as ZeroMQ sets up its own."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((ip, int(port)))
        sock.listen(BACKLOG)
    except BaseException:
        sock.close()
        raise
    return sock


def ipv4_address(ip):
    """The numeric IPv4 address to listen on for the connection file's ip, or None."""
    if ip == "*":
        return "0.0.0.0"
    try:
        return str(ipaddress.IPv4Address(ip))
    except ValueError:
        return None


class XaccelProvisioner(LocalProvisioner):
    """LocalProvisioner that hands listening sockets to the kernel it starts."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self._listeners = []

    async def pre_launch(self, **kwargs):
        kwargs = await super().pre_launch(**kwargs)
        self._close_listeners()
        # Only this launch's sockets are named to the kernel: a value from the
        # environment (it matters when none could be handed over) is dropped.
        kwargs["env"].pop(ENVIRONMENT_VARIABLE, None)
        info = self.connection_info
        ip = ipv4_address(info.get("ip", "")) if info.get("transport") == "tcp" else None
        if ip is None:
            return kwargs
        handed = {}
        for channel in HANDED_OVER:
            port = info.get(f"{channel}_port")
            try:
                handed[channel] = listen(ip, port)
            except (OSError, TypeError, ValueError) as error:
                self.log.warning("xaccel: cannot listen on %s:%s for the kernel's %s channel (%s); "
                                 "the kernel binds it itself", ip, port, channel, error)
        if handed:
            self._listeners = list(handed.values())
            kwargs["env"][ENVIRONMENT_VARIABLE] = ",".join(f"{c}:{s.fileno()}" for c, s in handed.items())
            kwargs["pass_fds"] = tuple(kwargs.get("pass_fds", ())) + tuple(s.fileno() for s in self._listeners)
        return kwargs

    async def launch_kernel(self, cmd, **kwargs):
        try:
            return await super().launch_kernel(cmd, **kwargs)
        finally:
            # The kernel holds the listeners now (or did not start): either
            # way this process must not keep the ports.
            self._close_listeners()

    async def cleanup(self, restart=False):
        self._close_listeners()
        await super().cleanup(restart=restart)

    def _close_listeners(self):
        for sock in self._listeners:
            sock.close()
        self._listeners = []
