"""The real Mistral 23 engine, in its own virtualenv, on SQLite and the real RabbitMQ transport.

Usage::

    mistral = MistralServer(Path("/tmp/run/mistral"), transport_url=broker.new_vhost())
    mistral.start()                   # ~3-6 s; api_url is http://127.0.0.1:PORT/v2
    ...
    mistral.kill(); mistral.start()   # crash and recovery: the SQLite DB is the truth
    mistral.stop()

The schema is built once per Mistral virtualenv (``template.sqlite`` beside it) and copied,
so each server starts from a fresh, populated database in milliseconds.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Sequence
from pathlib import Path

import requests

from harness.process import (
    ComponentError,
    free_port,
    kill_process,
    spawn,
    stop_process,
    tail,
    wait_until,
)

REPO = Path(__file__).resolve().parents[2]
SERVER_SCRIPT = Path(__file__).resolve().parent / "mistral_server.py"


def default_venv() -> Path:
    """Mistral's virtualenv: $HOST_RECOVERY_MISTRAL_VENV or .venv-mistral in the repo."""
    return Path(os.environ.get("HOST_RECOVERY_MISTRAL_VENV", REPO / ".venv-mistral"))


class MistralServer:
    """One all-in-one Mistral process whose files live under ``workdir``."""

    def __init__(self, workdir: Path, transport_url: str, venv: Path | None = None,
                 actions_config: Path | None = None,
                 extra_config: dict[str, dict[str, str]] | None = None,
                 services: Sequence[str] | None = None) -> None:
        self.workdir = workdir
        # None: every service in one process; else a subset (e.g. ("engine",)), the
        # multi-process topology of harness.mistral_cluster
        self.services = list(services) if services else None
        self.transport_url = transport_url
        self.venv = venv or default_venv()
        self.actions_config = actions_config
        self.extra_config = extra_config or {}
        self.port = free_port()
        self._proc: subprocess.Popen[bytes] | None = None

    @property
    def api_url(self) -> str:
        """Base URL of the v2 API (what python-mistralclient calls mistral_url)."""
        return f"http://127.0.0.1:{self.port}/v2"

    @property
    def config_file(self) -> Path:
        return self.workdir / "mistral.conf"

    @property
    def log_file(self) -> Path:
        return self.workdir / "mistral.log"

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    # -- lifecycle --------------------------------------------------------------------------
    def start(self, timeout: float = 120.0) -> None:
        """Start (or restart on the same DB) and wait until the API answers."""
        python = self.venv / "bin" / "python"
        if not python.exists():
            raise ComponentError(f"no Mistral virtualenv at {self.venv} (make deps builds it)")
        self.workdir.mkdir(parents=True, exist_ok=True)
        self._write_config()
        db = self.workdir / "mistral.sqlite"
        if not db.exists() and "connection" not in self.extra_config.get("database", {}):
            shutil.copyfile(self._template_db(), db)
        env = dict(os.environ)
        if self.actions_config is not None:
            env["HOST_RECOVERY_ACTIONS_CONFIG"] = str(self.actions_config)
        argv = [str(python), "-P", str(SERVER_SCRIPT), "--config-file", str(self.config_file)]
        if self.services is not None:
            self._ready_file.unlink(missing_ok=True)
            argv += ["--services", ",".join(self.services), "--ready-file",
                     str(self._ready_file)]
        # -P: the script's folder (harness/, with its mistral.py) must not shadow Mistral
        self._proc = spawn(argv, self.workdir / "mistral.out", env=env)
        try:
            wait_until(self._ready, timeout, f"Mistral API on port {self.port}", interval=0.2,
                       alive=lambda: self.running)
        except ComponentError as exc:
            raise ComponentError(f"{exc}\n{tail(self.workdir / 'mistral.out')}\n"
                                 f"{tail(self.log_file)}") from exc

    def stop(self) -> None:
        stop_process(self._proc, timeout=15.0)
        self._proc = None

    def kill(self) -> None:
        """SIGKILL every Mistral service at once (engine, executor and API die together)."""
        kill_process(self._proc)
        self._proc = None

    # -- internals --------------------------------------------------------------------------
    @property
    def pid(self) -> int | None:
        return None if self._proc is None else self._proc.pid

    @property
    def _ready_file(self) -> Path:
        return self.workdir / "ready"

    def _ready(self) -> bool:
        if self.services is not None and "api" not in self.services:
            return self._ready_file.exists()
        try:
            resp = requests.get(f"{self.api_url}/workbooks", timeout=2)
        except requests.RequestException:
            return False
        return resp.status_code == 200

    def _write_config(self) -> None:
        sections: dict[str, dict[str, str]] = {
            "DEFAULT": {"transport_url": self.transport_url, "debug": "False",
                        "log_file": str(self.log_file), "use_stderr": "False"},
            "api": {"host": "127.0.0.1", "port": str(self.port), "api_workers": "1"},
            "database": {"connection": f"sqlite:///{self.workdir / 'mistral.sqlite'}"},
            "pecan": {"auth_enable": "False"},
            "action_std_http": {"denied_cidrs": ""},
            # with-items under a concurrency limit advances once per scheduler tick
            "scheduler": {"fixed_delay": "0.1"},
            # a dead executor's action is failed after seconds, not the default 300 s
            "action_heartbeat": {"check_interval": "2", "max_missed_heartbeats": "3",
                                 "first_heartbeat_timeout": "30"},
            "oslo_messaging_rabbit": {"amqp_durable_queues": "True"},
        }
        for section, values in self.extra_config.items():
            sections.setdefault(section, {}).update(values)
        text = "".join(
            f"[{name}]\n" + "".join(f"{k} = {v}\n" for k, v in opts.items()) + "\n"
            for name, opts in sections.items()
        )
        self.config_file.write_text(text)

    def _template_db(self) -> Path:
        """A populated SQLite DB built once per Mistral virtualenv (created on first use)."""
        template = self.venv / "host-recovery-template.sqlite"
        if template.exists():
            return template
        build = self.workdir / "template-build"
        build.mkdir(parents=True, exist_ok=True)
        db = build / "mistral.sqlite"
        conf = build / "mistral.conf"
        conf.write_text(f"[database]\nconnection = sqlite:///{db}\n"
                        f"[DEFAULT]\nlog_file = {build / 'db.log'}\nuse_stderr = False\n")
        python = str(self.venv / "bin" / "python")
        manage = str(self.venv / "bin" / "mistral-db-manage")
        for argv in ([python, "-P", str(SERVER_SCRIPT), "--config-file", str(conf), "--init-db"],
                     [manage, "--config-file", str(conf), "stamp", "head"],
                     [manage, "--config-file", str(conf), "populate"]):
            done = subprocess.run(argv, capture_output=True, text=True, timeout=600,
                                  check=False)
            if done.returncode != 0:
                raise ComponentError(f"Mistral DB setup failed: {' '.join(argv)}\n"
                                     f"{done.stdout[-2000:]}{done.stderr[-2000:]}")
        tmp = template.with_suffix(".tmp")
        shutil.copyfile(db, tmp)
        tmp.replace(template)  # atomic: concurrent test sessions never see half a file
        return template
