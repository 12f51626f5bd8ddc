"""Fixtures of the kernel tests (defined in kernel_harness)."""

from kernel_harness import kernel, logged_kernel, shared_kernel  # noqa: F401
