"""A real single-node corosync + Pacemaker cluster for tests (no systemd).

Pacemaker and corosync use fixed system paths, so only one such cluster runs per machine:
``start()`` wipes the CIB, writes a loopback corosync.conf, runs ``corosync -f`` and
``pacemakerd -f``, and waits (crm_mon, with a timeout) until the node is online with quorum.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import IO

NODE = "hr-ctl-1"
BINARIES = ("corosync", "pacemakerd", "crm_mon", "crm_attribute", "crm_resource",
            "cibadmin", "attrd_updater", "stonith_admin", "ocf-tester")
COROSYNC_CONF = Path("/etc/corosync/corosync.conf")
CIB_DIR = Path("/var/lib/pacemaker/cib")
STATE_DIRS = (CIB_DIR, Path("/var/lib/pacemaker/pengine"))
SBIN = ("/usr/sbin", "/usr/bin", "/sbin", "/bin")

_CONF = """totem {{
    version: 2
    cluster_name: host-recovery-test
    transport: knet
    crypto_cipher: none
    crypto_hash: none
}}
nodelist {{
    node {{
        ring0_addr: 127.0.0.1
        name: {node}
        nodeid: 1
    }}
}}
quorum {{
    provider: corosync_votequorum
}}
logging {{
    to_syslog: no
    to_stderr: no
    to_logfile: yes
    logfile: {log}
}}
"""


class PacemakerError(RuntimeError):
    """The cluster could not be started or a cluster command failed."""


def missing_binaries() -> list[str]:
    """Cluster binaries not found (tests fail with this list instead of skipping)."""
    return [b for b in BINARIES if not shutil.which(b, path=os.pathsep.join(SBIN))]


def run(*args: str, check: bool = True, timeout: float = 30.0) -> str:
    """Run a cluster CLI command and return its stdout."""
    proc = subprocess.run(args, capture_output=True, text=True, timeout=timeout, check=False,
                          env=_env())
    if check and proc.returncode != 0:
        raise PacemakerError(f"{' '.join(args)} -> {proc.returncode}: {proc.stderr.strip()}")
    return proc.stdout


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["PATH"] = os.pathsep.join([*SBIN, env.get("PATH", "")])
    return env


class PacemakerCluster:
    """corosync + pacemakerd in the foreground, owned by this object."""

    def __init__(self, workdir: Path, node: str = NODE) -> None:
        self.workdir = workdir
        self.node = node
        self._procs: list[subprocess.Popen[bytes]] = []
        self._saved_conf: bytes | None = None

    def start(self, timeout: float = 90.0) -> None:
        """Wipe state, start corosync then pacemakerd, wait for an online quorate node."""
        if missing := missing_binaries():
            raise PacemakerError(f"missing cluster binaries: {', '.join(missing)} "
                                 "(run `make deps`)")
        if run("pgrep", "-x", "pacemakerd", check=False).strip():
            raise PacemakerError("a pacemakerd already runs on this machine (one cluster "
                                 "per machine)")
        self.workdir.mkdir(parents=True, exist_ok=True)
        if COROSYNC_CONF.exists():
            self._saved_conf = COROSYNC_CONF.read_bytes()
        COROSYNC_CONF.write_text(_CONF.format(node=self.node,
                                              log=self.workdir / "corosync.log"))
        self.wipe()
        logs = self.workdir / "cluster.out"
        with logs.open("ab") as out:
            self._spawn(["corosync", "-f"], out)
            self._wait(lambda: run("corosync-cfgtool", "-s", check=False) != "", 30,
                       "corosync did not answer")
            self._spawn(["pacemakerd", "-f"], out)
        self._wait(self._online, timeout, "node not online with quorum")
        run("crm_attribute", "-t", "crm_config", "-n", "stonith-enabled", "-v", "false")

    def _spawn(self, cmd: list[str], out: IO[bytes]) -> None:
        self._procs.append(subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT,
                                            env=_env(), start_new_session=True))

    def _online(self) -> bool:
        status = run("crm_mon", "-1", "--output-as", "xml", check=False, timeout=10)
        return (f'name="{self.node}"' in status and 'online="true"' in status
                and 'with_quorum="true"' in status)

    @staticmethod
    def _wait(condition: Callable[[], bool], timeout: float, what: str) -> None:
        deadline = time.monotonic() + timeout
        while not condition():
            if time.monotonic() > deadline:
                raise PacemakerError(f"{what} after {timeout:.0f} s")
            time.sleep(0.5)  # polling the cluster's own status CLI; there is no event to await

    def stop(self, timeout: float = 60.0) -> None:
        """Stop pacemakerd, then corosync (SIGTERM, SIGKILL after ``timeout``); wipe state."""
        for proc in reversed(self._procs):
            with contextlib.suppress(ProcessLookupError):
                proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=10)
        self._procs.clear()
        self.wipe()
        if self._saved_conf is not None:
            COROSYNC_CONF.write_bytes(self._saved_conf)

    @staticmethod
    def wipe() -> None:
        """Remove the CIB and scheduler inputs (one test cluster per machine)."""
        for directory in STATE_DIRS:
            if directory.is_dir():
                for entry in directory.iterdir():
                    if entry.is_file():
                        entry.unlink()
