"""The Nova + Keystone simulator as a subprocess on free loopback ports.

Usage::

    sim = SimulatorProcess(workdir, transport_url=rabbit.new_vhost(),
                           scenario={"hosts": 4, "vms_per_host": 10})
    sim.start()
    sim.auth_url, sim.compute_url, sim.control_url     # Keystone v3, Nova /v2.1, /_sim
    sim.control.fail_host("compute1", immediate=True)
    sim.keystone_session()                             # keystoneauth1 session as admin
    sim.stop()
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from keystoneauth1 import session
from keystoneauth1.identity import v3

from harness.process import ComponentError, spawn, stop_process, tail, wait_until
from simulator.control_client import ControlClient


class SimulatorProcess:
    """One ``host-recovery-simulator`` process whose files live under ``workdir``."""

    def __init__(self, workdir: Path, transport_url: str | None = None,
                 scenario: dict[str, Any] | Path | None = None, threads: int = 16) -> None:
        self.workdir = workdir
        self.transport_url = transport_url
        self.scenario = scenario
        self.threads = threads
        self.urls: dict[str, str] = {}
        self._proc: subprocess.Popen[bytes] | None = None
        self._control: ControlClient | None = None

    @property
    def log_path(self) -> Path:
        """stdout+stderr of the process."""
        return self.workdir / "simulator.log"

    def start(self, timeout: float = 30.0) -> None:
        """Spawn, wait for the ready file, then for the control API to answer."""
        self.workdir.mkdir(parents=True, exist_ok=True)
        ready = self.workdir / "ready.json"
        ready.unlink(missing_ok=True)
        argv = [sys.executable, "-m", "simulator.cmd", "--ready-file", str(ready),
                "--threads", str(self.threads), "--log-level", "WARNING"]
        if isinstance(self.scenario, Path):
            argv += ["--scenario", str(self.scenario)]
        elif self.scenario:
            argv += ["--scenario-json", json.dumps(self.scenario)]
        if self.transport_url:
            argv += ["--transport-url", self.transport_url]
        self._proc = spawn(argv, self.log_path, cwd=Path(__file__).resolve().parent.parent)
        alive = self._alive
        try:
            wait_until(ready.exists, timeout, "simulator ready file", alive=alive)
            self.urls = json.loads(ready.read_text())["urls"]
            self._control = ControlClient(self.urls["control"])
            wait_until(self._healthy, timeout, "simulator control API", alive=alive)
        except ComponentError as exc:
            self.stop()
            raise ComponentError(f"{exc}\n{tail(self.log_path)}") from exc

    def _alive(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def _healthy(self) -> bool:
        try:
            return bool(self.control.health()["status"] == "ok")
        except Exception:
            return False

    def stop(self) -> None:
        """SIGTERM (clean stop: pending notifications are flushed), SIGKILL after 15 s."""
        stop_process(self._proc, timeout=15.0)
        self._proc = None

    @property
    def pid(self) -> int | None:
        """The process's id while it runs (benchmarks read its CPU time)."""
        return self._proc.pid if self._alive() and self._proc is not None else None

    @property
    def running(self) -> bool:
        """True while the process lives."""
        return self._alive()

    # -- addresses and clients --------------------------------------------------------------
    @property
    def auth_url(self) -> str:
        """Keystone v3 auth URL (``.../v3``)."""
        return self.urls["auth_url"]

    @property
    def compute_url(self) -> str:
        """Nova endpoint (``.../v2.1``), as in the catalog."""
        return self.urls["compute"]

    @property
    def control_url(self) -> str:
        """Root of the /_sim control API."""
        return self.urls["control"]

    @property
    def control(self) -> ControlClient:
        """Client of the control API (after ``start``)."""
        if self._control is None:
            raise ComponentError("simulator not started")
        return self._control

    def credentials(self) -> dict[str, str]:
        """keystoneauth1 ``password`` plugin arguments for the admin user."""
        return {"auth_url": self.auth_url, "username": "admin", "password": "secret",
                "project_name": "admin", "user_domain_name": "Default",
                "project_domain_name": "Default"}

    def keystone_session(self) -> session.Session:
        """A keystoneauth1 Session with a v3 password plugin (admin, project admin)."""
        creds = self.credentials()
        auth = v3.Password(auth_url=creds["auth_url"], username=creds["username"],
                           password=creds["password"], project_name=creds["project_name"],
                           user_domain_name=creds["user_domain_name"],
                           project_domain_name=creds["project_domain_name"])
        return session.Session(auth=auth)
