"""Small process helpers shared by the component harnesses: free ports, waits, clean stops."""

from __future__ import annotations

import contextlib
import fcntl
import os
import random
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Callable
from pathlib import Path


class ComponentError(RuntimeError):
    """A component could not be started, or died while we waited for it."""


_HANDED_OUT: dict[int, int] = {}
_LOCK_DIR = Path(tempfile.gettempdir()) / "host-recovery-ports"
_SPAN = 12000  # ports below the ephemeral range that free_port draws from


def _ephemeral_low() -> int:
    """The first port the kernel may give an outgoing connection (32768 by default)."""
    try:
        return int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return 32768


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that nothing listens on and no other run holds.

    The port comes from below the kernel's ephemeral range: a port that ``bind(0)`` hands
    out is free only until any process's next outgoing connection takes it, and RabbitMQ
    then fails to start with ``dist_port_already_used ... not_erlang`` (a red CI run). A
    lock file held for this process's life keeps concurrent runs (a soak beside a test
    run) from picking the same port.
    """
    high = _ephemeral_low() - 1
    low = max(1024, high - _SPAN)
    _LOCK_DIR.mkdir(parents=True, exist_ok=True)
    rng = random.SystemRandom()
    for _ in range(500):
        port = rng.randint(low, high)
        if port in _HANDED_OUT:
            continue
        fd = os.open(_LOCK_DIR / str(port), os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            continue
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                os.close(fd)
                continue
        _HANDED_OUT[port] = fd
        return port
    raise ComponentError(f"no free port found between {low} and {high}")


def wait_until(
    condition: Callable[[], bool],
    timeout: float,
    what: str,
    interval: float = 0.1,
    alive: Callable[[], bool] | None = None,
) -> None:
    """Poll ``condition`` until it is true; raise ComponentError naming ``what`` on timeout.

    ``alive`` lets the caller fail fast when the process it waits for has already died.
    """
    deadline = time.monotonic() + timeout
    while True:
        if condition():
            return
        if alive is not None and not alive():
            raise ComponentError(f"{what}: the process exited before it was ready")
        if time.monotonic() > deadline:
            raise ComponentError(f"{what}: not ready after {timeout:.0f} s")
        time.sleep(interval)


def port_open(port: int, host: str = "127.0.0.1") -> bool:
    """True when something accepts TCP connections on host:port."""
    with contextlib.suppress(OSError), socket.create_connection((host, port), timeout=0.5):
        return True
    return False


def spawn(argv: list[str], log_path: Path, env: dict[str, str] | None = None,
          cwd: Path | None = None) -> subprocess.Popen[bytes]:
    """Start ``argv`` in its own process group with stdout+stderr appended to ``log_path``."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with open(log_path, "ab") as log:
        return subprocess.Popen(
            argv, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            env=env, cwd=cwd, start_new_session=True,
        )


def stop_process(proc: subprocess.Popen[bytes] | None, timeout: float = 20.0,
                 sig: int = signal.SIGTERM) -> None:
    """Send ``sig`` to the process group, wait up to ``timeout``, then SIGKILL it."""
    if proc is None or proc.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, sig)
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)


def kill_process(proc: subprocess.Popen[bytes] | None) -> None:
    """SIGKILL the whole process group at once (crash simulation)."""
    stop_process(proc, timeout=10.0, sig=signal.SIGKILL)


def tail(path: Path, lines: int = 30) -> str:
    """The last ``lines`` lines of a log file, for error messages."""
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"
