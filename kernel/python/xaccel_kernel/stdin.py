"""input() and getpass() over the Jupyter stdin channel."""

import _xaccel


class StdinBridge:
    def __init__(self):
        self.allowed = False

    def _request(self, prompt, password):
        if not self.allowed:
            from IPython.core.error import StdinNotImplementedError

            raise StdinNotImplementedError("input() is not available: the front end does not support stdin")
        import threading

        if getattr(threading.current_thread(), "xaccel_subshell", None) is not None:
            from IPython.core.error import StdinNotImplementedError

            # One stdin channel, answered by the main shell (as ipykernel).
            raise StdinNotImplementedError("input() is not available in a subshell")
        import sys

        sys.stdout.flush()
        sys.stderr.flush()
        return _xaccel.input_request(str(prompt), password)

    def input(self, prompt=""):
        return self._request(prompt, False)

    def getpass(self, prompt="Password: ", stream=None):
        return self._request(prompt, True)
