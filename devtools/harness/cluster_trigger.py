"""The spec's trigger path on one machine: Pacemaker learns a compute node was fenced.

A single-node corosync + Pacemaker (harness.pacemaker) gets the ``HostRecovery`` resource
and the alert agent from the pcs commands operators run (etc/pcs/host-recovery.pcs.sh, with
this checkout's paths); :meth:`PacemakerTrigger.fence` records a fencing of the compute node
in Pacemaker's fencing history (``stonith_admin --confirm``, what a fence device's success
records), and the agents publish the signed host-down. Pacemaker uses fixed system paths:
one per machine, and only as root.
"""

from __future__ import annotations

import grp
import os
import shutil
import subprocess
import sys
from pathlib import Path

from agents import cluster
from harness import pacemaker
from harness.listener import write_ini
from harness.process import ComponentError, wait_until

REPO = Path(__file__).resolve().parents[2]
AGENTS = REPO / "agents" / "ocf"
PCS_SCRIPT = REPO / "etc" / "pcs" / "host-recovery.pcs.sh"
OCF_DIR = Path("/usr/lib/ocf/resource.d/host-recovery")
ALERT = Path("/usr/local/lib/host-recovery/host_recovery_alert.sh")
PREFIX = "host-recovery-incident-"
#: The pcs script's 10 s monitor is a production figure; the demo checks every 2 s.
MONITOR = "interval=2s timeout=60s"
#: Where a detached ``host-recovery-harness up`` records itself (``down`` and ``make test``).
STATE_FILE = Path("/run/host-recovery-harness.json")


def unavailable() -> str | None:
    """Why Pacemaker cannot run here (one line), or None."""
    if os.geteuid() != 0:
        return "Pacemaker needs root"
    if missing := pacemaker.missing_binaries() + ([] if shutil.which("pcs") else ["pcs"]):
        return f"missing {', '.join(missing)} (apt-get install pacemaker pcs)"
    if pacemaker.run("pgrep", "-x", "pacemakerd", check=False).strip():
        held = f" (host-recovery-harness up --detach: {STATE_FILE})" \
            if STATE_FILE.exists() else ""
        return f"a Pacemaker already runs on this machine{held}"
    return None


class PacemakerTrigger:
    """corosync + Pacemaker with our two agents, publishing to ``transport_url``."""

    def __init__(self, workdir: Path, transport_url: str, signing_key: str,
                 compute_nodes: list[str]) -> None:
        self.workdir = workdir
        self.config = workdir / "host-recovery.conf"
        self.cluster = pacemaker.PacemakerCluster(workdir / "cluster")
        self._transport_url = transport_url
        self._signing_key = signing_key
        self._nodes = compute_nodes
        self._installed: list[Path] = []

    def start(self) -> None:
        """Start the cluster, install the agents, run the pcs script, wait for the resource."""
        self.workdir.mkdir(parents=True, exist_ok=True)
        self._write_config()
        self.cluster.start()
        self._install(AGENTS / "HostRecovery", OCF_DIR / "HostRecovery")
        self._install(AGENTS / "host_recovery_alert.sh", ALERT)
        env = dict(os.environ, CLI=str(Path(sys.executable).parent / "host-recovery-notify"),
                   CONFIG=str(self.config), ALERT=str(ALERT))
        done = subprocess.run(["sh", str(PCS_SCRIPT)], env=env, capture_output=True,
                              text=True, timeout=120, check=False)
        if done.returncode != 0:
            raise ComponentError(f"{PCS_SCRIPT.name}: {done.stderr.strip()}")
        pacemaker.run("pcs", "resource", "update", "host-recovery", "op", "monitor",
                      *MONITOR.split(), timeout=60)
        pacemaker.run("crm_resource", "--wait", "--timeout", "60s", timeout=70)

    def fence(self, node: str) -> None:
        """Record ``node`` fenced (off) in Pacemaker's fencing history, as a fence device."""
        pacemaker.run("stonith_admin", "--confirm", node, timeout=60)

    def incident(self, node: str, timeout: float = 60.0) -> str:
        """The incident id once the agents have published ``node``'s host-down (CIB: sent)."""
        found: list[str] = []

        def sent() -> bool:
            record = cluster.read_records(PREFIX).get(node)
            if record is not None and record.state == "sent":
                found.append(record.incident_id)
            return bool(found)

        wait_until(sent, timeout, f"Pacemaker's agents to publish {node}'s host-down",
                   interval=0.2)
        return found[0]

    def stop(self) -> None:
        """Stop the cluster (its CIB is wiped) and remove the agents it installed."""
        self.cluster.stop()
        for path in self._installed:
            path.unlink(missing_ok=True)
        self._installed.clear()

    def _install(self, source: Path, target: Path) -> None:
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source, target)
        target.chmod(0o755)
        self._installed.append(target)

    def _write_config(self) -> None:
        write_ini(self.config, {
            "DEFAULT": {"use_stderr": "False"},
            "publisher": {"transport_url": self._transport_url},
            "host_down": {"signing_key": self._signing_key},
            "agent": {"reporter": pacemaker.NODE, "compute_nodes": ",".join(self._nodes)},
        })
        # The alert agent runs as hacluster: it reads the config (the key) as haclient,
        # as docs/agents.md asks of /etc/host-recovery/host-recovery.conf.
        os.chown(self.config, 0, grp.getgrnam("haclient").gr_gid)
        self.config.chmod(0o640)
        # Our own (mkdtemp, 0700) directories only: hacluster may traverse them.
        for directory in (self.workdir, self.workdir.parent):
            directory.chmod(directory.stat().st_mode | 0o011)
