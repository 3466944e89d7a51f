"""``host-recovery-listener`` as a separate process with its own config file and log.

Usage::

    listener = ListenerProcess(workdir, "ctl-1", transport_url, mistral_url, workflow_file,
                               signing_key="...")
    listener.start()            # returns once it logs that it consumes host-downs
    listener.lines("Recovery accepted")
    listener.terminate()        # SIGTERM: graceful; .kill() is SIGKILL
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from pathlib import Path

from harness.process import ComponentError, spawn, stop_process, tail, wait_until

BIN = Path(sys.executable).parent


def write_ini(path: Path, sections: dict[str, dict[str, str]]) -> None:
    """Write an oslo.config-style INI file."""
    path.write_text("".join(
        f"[{name}]\n" + "".join(f"{key} = {value}\n" for key, value in opts.items()) + "\n"
        for name, opts in sections.items()))


class ListenerProcess:
    """One listener (a controller's daemon) whose files live under ``workdir/name``."""

    def __init__(self, workdir: Path, name: str, transport_url: str, mistral_url: str,
                 workflow_file: Path | None = None, signing_key: str = "",
                 retry_window: int = 60,
                 extra: dict[str, dict[str, str]] | None = None) -> None:
        self.name = name
        self.dir = workdir / name
        self.dir.mkdir(parents=True, exist_ok=True)
        self.log = self.dir / "listener.log"
        self.out = self.dir / "listener.out"
        self.config = self.dir / "host-recovery.conf"
        mistral = {"auth_type": "none", "endpoint_override": mistral_url, "timeout": "10"}
        if workflow_file is not None:
            mistral["workflow_definition"] = str(workflow_file)
        sections: dict[str, dict[str, str]] = {
            "DEFAULT": {"transport_url": transport_url, "log_file": str(self.log),
                        "debug": "False"},
            "host_down": {"signing_key": signing_key},
            "listener": {"name": name, "retry_window": str(retry_window),
                         "retry_initial_delay": "0.2", "retry_max_delay": "2"},
            "mistral": mistral,
            # several listeners share one machine: each exporter on any free port
            "metrics": {"port": "0"},
        }
        for section, values in (extra or {}).items():
            sections.setdefault(section, {}).update(values)
        write_ini(self.config, sections)
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self, wait: bool = True, timeout: float = 60.0) -> None:
        """Spawn the daemon; by default wait until it consumes host-downs."""
        self.proc = spawn([str(BIN / "host-recovery-listener"), "--config-file",
                           str(self.config)], self.out, env=dict(os.environ))
        if wait:
            try:
                wait_until(self.ready, timeout, f"listener {self.name}", interval=0.2,
                           alive=self.alive)
            except ComponentError as exc:
                raise ComponentError(f"{exc}\n{tail(self.out)}\n{tail(self.log)}") from exc

    def ready(self) -> bool:
        """True once it has logged that it consumes host-downs."""
        return "consuming host-downs" in self.text()

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def text(self, since: int = 0) -> str:
        """The log so far, from byte ``since`` on (a ``size()`` read earlier)."""
        try:
            with self.log.open("rb") as log:
                log.seek(since)
                return log.read().decode(errors="replace")
        except OSError:
            return ""

    def size(self) -> int:
        """The log's length in bytes now (0 before it exists)."""
        try:
            return self.log.stat().st_size
        except OSError:
            return 0

    def lines(self, pattern: str, since: int = 0) -> list[str]:
        """Log lines matching the regular expression ``pattern`` (from byte ``since``)."""
        return [line for line in self.text(since).splitlines() if re.search(pattern, line)]

    def terminate(self, timeout: float = 30.0) -> int | None:
        """SIGTERM (graceful shutdown); the exit code, or None if never started."""
        stop_process(self.proc, timeout=timeout, sig=signal.SIGTERM)
        return None if self.proc is None else self.proc.returncode

    def kill(self) -> None:
        """SIGKILL (a controller dying): unacked messages go to the other listeners."""
        stop_process(self.proc, timeout=10.0, sig=signal.SIGKILL)
