"""The peers our recovery is measured against, each on its own simulator with the same cloud.

* ``ideal(n, c, latency)``: ⌈n/c⌉·latency, the floor for ``n`` evacuable VMs;
* ``run_masakari``: Masakari 22's TaskFlow host-failure flow (``masakari_driver.py`` in
  ``.venv-masakari``, built here on first use from PyPI);
* ``run_sequential``: the NovaEvacuate / fence_compute loop (one evacuate request after the
  other, microversion 2.1, no confirmation, no state restored), started at once (the real
  resource agent's monitor adds up to 10 s).

Every clock starts just before the simulator fails the host with ``immediate=True``.
"""

from __future__ import annotations

import json
import math
import subprocess
import time
from pathlib import Path
from typing import Any

from harness.process import ComponentError
from harness.simulator import SimulatorProcess

REPO = Path(__file__).resolve().parents[2]
MASAKARI_VENV = REPO / ".venv-masakari"
DRIVER = Path(__file__).resolve().parent / "masakari_driver.py"
HOST = "compute1"
# Room for every evacuated VM (the builder ignores capacity: 100 VMs need ~230 vCPUs).
CAPACITY = {"host_vcpus": 4096, "host_ram_mb": 8_388_608}


def scenario(n: int, latency: float, hosts: int = 4) -> dict[str, Any]:
    """One cloud for every peer: ``hosts`` hosts of ``n`` VMs, evacuation ``latency`` s."""
    return {"hosts": hosts, "vms_per_host": n, "latency": {"kind": "fixed", "value": latency},
            **CAPACITY}


def evacuable(servers: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """VMs our policy evacuates (ERROR ones are skipped)."""
    return [vm for vm in servers if vm.get("status") in ("ACTIVE", "SHUTOFF")]


def ideal(n: int, concurrency: int, latency: float) -> float:
    """⌈n/c⌉·L."""
    return math.ceil(n / concurrency) * latency


def restored(sim: SimulatorProcess, before: list[dict[str, Any]]) -> int:
    """How many of ``before`` are off the failed host, idle, in their original status."""
    now = {vm["id"]: vm for vm in sim.control.servers()}
    return sum(1 for vm in before if now.get(vm["id"], {}).get("host") not in (None, HOST)
               and now[vm["id"]].get("status") == vm["status"]
               and not now[vm["id"]].get("task_state"))


def ensure_masakari_venv() -> Path:
    """``.venv-masakari`` with masakari==22.* from PyPI (once; ~15 s)."""
    python = MASAKARI_VENV / "bin" / "python"
    marker = MASAKARI_VENV / ".installed"
    if not marker.exists():
        if not python.exists():
            subprocess.run(["python3", "-m", "venv", str(MASAKARI_VENV)], check=True)
        subprocess.run([str(python), "-m", "pip", "install", "-q",
                        "--disable-pip-version-check", "masakari==22.*"], check=True)
        marker.touch()
    return python


def request_counts(sim: SimulatorProcess) -> dict[str, int]:
    """Requests by kind (``service METHOD /path/{id}[ action]``) from the simulator's log."""
    counts: dict[str, int] = {}
    for entry in sim.control.requests()["entries"]:
        plain = str(entry["path"]).split("?", maxsplit=1)[0]
        parts = [("{id}" if len(p) >= 32 else p) for p in plain.split("/") if p]
        kind = f"{entry['service']} {entry['method']} /" + "/".join(
            p for p in parts if not p.startswith("v2") and p != "v3")
        if entry.get("action"):
            kind += f" {entry['action']}"
        counts[kind] = counts.get(kind, 0) + 1
    return counts


def _start(workdir: Path, n: int, latency: float) -> tuple[SimulatorProcess, list[Any]]:
    sim = SimulatorProcess(workdir, scenario=scenario(n, latency))
    sim.start()
    return sim, sim.control.servers(HOST)


def run_masakari(workdir: Path, n: int, latency: float, threads: int, wait: int,
                 timeout: float = 900.0) -> dict[str, Any]:
    """Masakari's flow against a fresh simulator; seconds from the failure to its return."""
    python = ensure_masakari_venv()
    sim, before = _start(workdir / "simulator", n, latency)
    try:
        proc = subprocess.Popen(
            [str(python), str(DRIVER), "--auth-url", sim.auth_url, "--host", HOST,
             "--threads", str(threads), "--wait", str(wait), "--workdir",
             str(workdir / "masakari")], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            stderr=(workdir / "masakari.err").open("wb"), text=True)
        try:
            assert proc.stdin is not None and proc.stdout is not None
            if "ready" not in proc.stdout.readline():
                raise ComponentError(f"Masakari driver did not start: see {workdir}")
            sim.control.clear_requests()
            failed_at = time.time()
            sim.control.fail_host(HOST, immediate=True)
            proc.stdin.write("go\n")
            proc.stdin.flush()
            out, _ = proc.communicate(timeout=timeout)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        result = json.loads(out.strip().splitlines()[-1])
        return {"seconds": result["ended_at"] - failed_at, "ok": result["ok"],
                "error": result["error"], "vms": len(before),
                "restored": restored(sim, evacuable(before)),
                "requests": request_counts(sim)}
    finally:
        sim.stop()


def run_sequential(workdir: Path, n: int, latency: float, timeout: float = 600.0
                   ) -> dict[str, Any]:
    """The fence_compute loop; seconds until Nova has finished every evacuation."""
    sim, before = _start(workdir / "simulator", n, latency)
    try:
        nova = sim.keystone_session()
        nova.get_token()  # a running agent holds its session already
        sim.control.clear_requests()
        failed_at = time.time()
        sim.control.fail_host(HOST, immediate=True)
        servers = nova.get(f"{sim.compute_url}/servers/detail?host={HOST}&all_tenants=1",
                           headers={"OpenStack-API-Version": "compute 2.1"}).json()["servers"]
        for server in servers:
            nova.post(f"{sim.compute_url}/servers/{server['id']}/action",
                      json={"evacuate": {"onSharedStorage": False}}, raise_exc=False,
                      headers={"OpenStack-API-Version": "compute 2.1"})
        sim.control.wait_idle(timeout)  # every accepted evacuation has finished
        return {"seconds": time.time() - failed_at, "vms": len(before),
                "restored": restored(sim, evacuable(before)),
                "requests": request_counts(sim)}
    finally:
        sim.stop()
