"""Simulator throughput and capacity: ``python -m bench.simulator_api [--quick]``.

Starts ``host-recovery-simulator`` processes (harness), measures requests/s of the calls the
recovery makes (keep-alive clients on threads, as a workflow engine would) and how many
VMs/hosts one process holds (start time, RSS, detail-list latency). Prints a table and writes
``bench-results/simulator_api-<time>.json``. The client runs on the same machine: on 2 cores
the figures are a floor for the server, not its ceiling.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import requests

from harness.simulator import SimulatorProcess

RESULTS = Path(__file__).resolve().parents[2] / "bench-results"
HEADERS = {"OpenStack-API-Version": "compute 2.53", "Content-Type": "application/json"}


def _token(sim: SimulatorProcess) -> tuple[str, dict[str, Any]]:
    body = {"auth": {"identity": {"methods": ["password"], "password": {"user": {
        "name": "admin", "domain": {"name": "Default"}, "password": "secret"}}},
        "scope": {"project": {"name": "admin", "domain": {"name": "Default"}}}}}
    resp = requests.post(f"{sim.auth_url}/auth/tokens", json=body, timeout=10)
    resp.raise_for_status()
    return resp.headers["X-Subject-Token"], body


def _rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def _pid(sim: SimulatorProcess) -> int:
    return int(json.loads((sim.workdir / "ready.json").read_text())["pid"])


def measure(call: Callable[[requests.Session, int], int], threads: int, seconds: float
            ) -> dict[str, float]:
    """Run ``call(session, i)`` on ``threads`` threads for ``seconds``; rate and latency."""
    stop = time.monotonic() + seconds
    latencies: list[list[float]] = [[] for _ in range(threads)]
    errors = [0] * threads

    def worker(n: int) -> None:
        session = requests.Session()
        i = n
        while time.monotonic() < stop:
            started = time.perf_counter()
            status = call(session, i)
            latencies[n].append(time.perf_counter() - started)
            errors[n] += status >= 400
            i += threads

    pool = [threading.Thread(target=worker, args=(n,)) for n in range(threads)]
    began = time.monotonic()
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    elapsed = time.monotonic() - began
    flat = sorted(x for per in latencies for x in per)
    return {"requests": len(flat), "errors": sum(errors), "rps": len(flat) / elapsed,
            "p50_ms": 1000 * statistics.median(flat) if flat else 0.0,
            "p99_ms": 1000 * flat[int(0.99 * (len(flat) - 1))] if flat else 0.0}


def drain(items: list[str], threads: int, call: Callable[[requests.Session, str], int]
          ) -> dict[str, float]:
    """Call ``call(session, item)`` once per item on ``threads`` threads; rate, latency."""
    todo = list(items)
    lock = threading.Lock()
    latencies: list[float] = []
    errors = [0]

    def worker() -> None:
        session = requests.Session()
        while True:
            with lock:
                if not todo:
                    return
                item = todo.pop()
            started = time.perf_counter()
            status = call(session, item)
            with lock:
                latencies.append(time.perf_counter() - started)
                errors[0] += status >= 400

    pool = [threading.Thread(target=worker) for _ in range(threads)]
    began = time.monotonic()
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    elapsed = time.monotonic() - began
    flat = sorted(latencies)
    return {"requests": len(flat), "errors": errors[0], "rps": len(flat) / elapsed,
            "p50_ms": 1000 * statistics.median(flat),
            "p99_ms": 1000 * flat[int(0.99 * (len(flat) - 1))]}


def throughput(workdir: Path, threads: int, seconds: float) -> dict[str, dict[str, float]]:
    """Requests/s per call type on a 20-host x 25-VM cloud."""
    sim = SimulatorProcess(workdir / "throughput", scenario={
        "hosts": 20, "vms_per_host": 25, "latency": {"kind": "fixed", "value": 0.5},
        "host_vcpus": 1024, "host_ram_mb": 4_194_304})
    sim.start()
    try:
        token, auth_body = _token(sim)
        nova, headers = sim.compute_url, dict(HEADERS, **{"X-Auth-Token": token})
        servers = requests.get(f"{nova}/servers?all_tenants=1", headers=headers,
                               timeout=10).json()["servers"]
        ids = [s["id"] for s in servers]
        services = requests.get(f"{nova}/os-services?binary=nova-compute", headers=headers,
                                timeout=10).json()["services"]
        calls: dict[str, Callable[[requests.Session, int], int]] = {
            "keystone POST /v3/auth/tokens": lambda s, i: s.post(
                f"{sim.auth_url}/auth/tokens", json=auth_body, timeout=10).status_code,
            "GET /servers/{id}": lambda s, i: s.get(
                f"{nova}/servers/{ids[i % len(ids)]}", headers=headers, timeout=10).status_code,
            "GET /servers/detail?host&all_tenants (25 VMs)": lambda s, i: s.get(
                f"{nova}/servers/detail?all_tenants=1&host=compute{i % 20 + 1}",
                headers=headers, timeout=10).status_code,
            "GET /os-services?host&binary": lambda s, i: s.get(
                f"{nova}/os-services?binary=nova-compute&host=compute{i % 20 + 1}",
                headers=headers, timeout=10).status_code,
            "PUT /os-services/{uuid} (2.53 disable)": lambda s, i: s.put(
                f"{nova}/os-services/{services[i % len(services)]['id']}",
                json={"status": "disabled", "disabled_reason": "bench"}, headers=headers,
                timeout=10).status_code,
            "POST /servers/{id}/action lock": lambda s, i: s.post(
                f"{nova}/servers/{ids[i % len(ids)]}/action", json={"lock": None},
                headers=headers, timeout=10).status_code,
        }
        results = {name: measure(call, threads, seconds) for name, call in calls.items()}
        # Evacuate accepts: every VM of 10 forced-down hosts, once each (no retries). The
        # disable bench disabled every service: enable them again, or nothing is schedulable.
        for n, service in enumerate(services):
            requests.put(f"{nova}/os-services/{service['id']}",
                         json={"forced_down": n < 10, "status": "enabled"}, headers=headers,
                         timeout=10)
        victims = [s["id"] for h in range(1, 11) for s in requests.get(
            f"{nova}/servers?all_tenants=1&host=compute{h}", headers=headers,
            timeout=10).json()["servers"]]
        results["POST evacuate (accepted, 250 VMs)"] = drain(
            victims, threads, lambda sess, vm: sess.post(
                f"{nova}/servers/{vm}/action", json={"evacuate": {}}, headers=headers,
                timeout=10).status_code)
        sim.control.wait_idle(60)
        state = sim.control.state()
        results["POST evacuate (accepted, 250 VMs)"]["migrations_done"] = float(
            state["migrations"].get("done", 0))
        if state["migrations"].get("done", 0) != len(victims):
            raise RuntimeError(f"evacuations did not all succeed: {state['migrations']}")
        return results
    finally:
        sim.stop()


def capacity(workdir: Path, sizes: list[tuple[int, int]]) -> list[dict[str, float]]:
    """Start time, RSS and one host's detail-list latency for growing clouds."""
    rows = []
    for hosts, per_host in sizes:
        sim = SimulatorProcess(workdir / f"cap-{hosts}x{per_host}",
                               scenario={"hosts": hosts, "vms_per_host": per_host,
                                         "host_vcpus": 4096, "host_ram_mb": 8_388_608})
        began = time.monotonic()
        sim.start(timeout=300)
        start_s = time.monotonic() - began
        try:
            token, _ = _token(sim)
            headers = dict(HEADERS, **{"X-Auth-Token": token})
            url = f"{sim.compute_url}/servers/detail?all_tenants=1&host=compute{hosts}"
            samples = []
            for _ in range(5):
                t0 = time.perf_counter()
                requests.get(url, headers=headers, timeout=60).raise_for_status()
                samples.append(time.perf_counter() - t0)
            rows.append({"hosts": hosts, "vms": hosts * per_host, "start_s": start_s,
                         "rss_mb": _rss_mb(_pid(sim)),
                         "detail_host_ms": 1000 * statistics.median(samples)})
        finally:
            sim.stop()
    return rows


def main(argv: list[str] | None = None) -> int:
    """Run both measurements, print a table, write the JSON."""
    parser = argparse.ArgumentParser(prog="bench.simulator_api", description=__doc__)
    parser.add_argument("--threads", type=int, default=8, help="client threads")
    parser.add_argument("--seconds", type=float, default=3.0, help="per call type")
    parser.add_argument("--quick", action="store_true", help="small capacity sizes only")
    args = parser.parse_args(argv)
    sizes = [(10, 10), (100, 100)] if args.quick else [(10, 10), (100, 100), (500, 100),
                                                       (1000, 100)]
    with tempfile.TemporaryDirectory(prefix="bench-sim-") as tmp:
        rates = throughput(Path(tmp), args.threads, args.seconds)
        cap = capacity(Path(tmp), sizes)
    print(f"\nSimulator API throughput ({args.threads} keep-alive client threads, "
          f"{args.seconds:.0f} s per call)")
    print(f"{'call':48} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'errors':>7}")
    for name, row in rates.items():
        print(f"{name:48} {row['rps']:8.0f} {row['p50_ms']:8.1f} {row['p99_ms']:8.1f} "
              f"{row['errors']:7.0f}")
    print("\nCapacity (one process)")
    print(f"{'hosts':>6} {'VMs':>8} {'start s':>8} {'RSS MB':>8} {'detail?host ms':>15}")
    for row in cap:
        print(f"{row['hosts']:6.0f} {row['vms']:8.0f} {row['start_s']:8.1f} "
              f"{row['rss_mb']:8.0f} {row['detail_host_ms']:15.1f}")
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / f"simulator_api-{time.strftime('%Y%m%dT%H%M%S')}.json"
    out.write_text(json.dumps({"threads": args.threads, "seconds": args.seconds,
                               "throughput": rates, "capacity": cap}, indent=2))
    print(f"\nwritten: {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
