"""Issue 13's side-by-side bench: ``python -m bench [--smoke] [--sizes 20,100] ...``.

One run measures our chain and its peers on the same simulated cloud (one host of N VMs,
evacuation latency L, concurrency C), each clock starting at the host's failure:
ours, the ideal ⌈N/C⌉·L, Masakari 22 at its defaults and tuned, the fence_compute loop
(P2); P1, P3, P4 and P5 as the issue defines them. Prints a table and writes
``bench-results/results.json`` (the issue's keys) and ``bench-results/details.json``.
``--smoke``: tiny sizes, no Masakari (the functional test runs it).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

from bench import ours, peers
from harness.options import mistral_sections as mistral_options

RESULTS = Path(__file__).resolve().parents[2] / "bench-results"


def _ints(text: str) -> list[int]:
    return [int(x) for x in text.split(",") if x]


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--smoke", action="store_true", help="tiny sizes, no Masakari")
    parser.add_argument("--sizes", type=_ints, default=[20, 100, 500], help="N values")
    parser.add_argument("--concurrency", type=_ints, default=[10, 20], help="C values")
    parser.add_argument("--latency", type=float, default=2.0, help="L, seconds")
    parser.add_argument("--repeat", type=int, default=3,
                        help="repetitions of runs shorter than a minute")
    parser.add_argument("--peers", default="ideal,ours,masakari_default,masakari_tuned,"
                        "sequential", help="comma-separated peers to run")
    parser.add_argument("--masakari-default-max", type=int, default=100,
                        help="largest N for Masakari at its defaults (its 180 s wait)")
    parser.add_argument("--p1-incidents", type=int, default=200)
    parser.add_argument("--p4-messages", type=int, default=20_000)
    parser.add_argument("--p5", default="20x50", help="HOSTSxVMS, or 'none'")
    parser.add_argument("--skip", default="", help="comma-separated of p1,p4,p5")
    parser.add_argument("--db", default="sqlite,postgres",
                        help="Mistral's database for our rows: sqlite (the embedded stack), "
                        "postgres (the production topology)")
    parser.add_argument("--mistral-option", action="append", default=[],
                        metavar="SECTION.KEY=VALUE",
                        help="an extra mistral.conf setting for our runs (A/B), repeatable")
    parser.add_argument("--mistral-executors", type=int, default=0,
                        help="executor processes beside the embedded Mistral (SQLite rows); "
                        "0: a thread of its one process")
    parser.add_argument("--out", type=Path, default=RESULTS)
    parser.add_argument("--workdir", type=Path,
                        help="keep every component's files here (default: a temp dir)")
    return parser


def _repeat(run: Any, times: int) -> list[dict[str, Any]]:
    """Run once; again up to ``times`` in all while a run takes under a minute."""
    results = [run()]
    while len(results) < times and results[0]["seconds"] < 60:
        results.append(run())
    return results


def _seconds(runs: list[dict[str, Any]]) -> float | None:
    return statistics.median(r["seconds"] for r in runs) if runs else None


def p2_rows(tmp: Path, n: int, c: int, latency: float, args: argparse.Namespace
            ) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """The P2 rows of one N and C, one per database, and their details (every run,
    requests, spreads). The peers run once; each row shows them beside ours."""
    which = set(args.peers.split(","))
    runs: dict[str, list[dict[str, Any]]] = {}
    tag = f"n{n}-c{c}"
    counter = iter(range(1000))
    dbs = [db for db in args.db.split(",") if db] if "ours" in which else []

    def where(peer: str) -> Path:
        return tmp / f"{tag}-{peer}-{next(counter)}"

    extra = mistral_options(args.mistral_option)
    for db in dbs:
        runs[_ours(db)] = _repeat(lambda db=db: ours.run_recovery(
            where(_ours(db)), n, latency, c, db=db, mistral_config=extra,
            mistral_executors=args.mistral_executors), args.repeat)
    if "masakari_tuned" in which:
        runs["masakari_tuned"] = _repeat(lambda: peers.run_masakari(
            where("mt"), n, latency, threads=c, wait=0), args.repeat)
    if "masakari_default" in which and n <= args.masakari_default_max and c == min(
            args.concurrency):  # its defaults do not depend on our C
        runs["masakari_default"] = [peers.run_masakari(where("md"), n, latency, threads=3,
                                                       wait=180)]
    if "sequential" in which and c == min(args.concurrency):
        runs["sequential"] = _repeat(lambda: peers.run_sequential(where("seq"), n, latency),
                                     args.repeat)
    first = next((rs[0] for rs in runs.values() if rs and "evacuable" in rs[0]), {})
    evac = first.get("evacuable") or round(n * 0.93)
    rows = [{"n": n, "latency_s": latency, "concurrency": c, "db": db,
             "ours_s": _seconds(runs.get(_ours(db), [])),
             "ideal_s": peers.ideal(evac, c, latency),
             "masakari_default_s": _seconds(runs.get("masakari_default", [])),
             "masakari_tuned_s": _seconds(runs.get("masakari_tuned", [])),
             "sequential_s": _seconds(runs.get("sequential", []))} for db in dbs or ["-"]]
    spread = {peer: [round(r["seconds"], 2) for r in rs] for peer, rs in runs.items()}
    return rows, {"rows": rows, "evacuable": evac, "seconds": spread, "runs": runs}


def _ours(db: str) -> str:
    """The runs' key of our chain on ``db`` ("ours" on SQLite, as before)."""
    return "ours" if db == "sqlite" else f"ours_{db}"


def _per_vm(requests: dict[str, int], vms: int) -> dict[str, float]:
    return {kind: round(count / max(vms, 1), 2) for kind, count in
            sorted(requests.items(), key=lambda kv: -kv[1])}


def _p4(messages: int) -> dict[str, Any]:
    from bench import nova_filter
    from harness.rabbit import RabbitBroker

    with tempfile.TemporaryDirectory(prefix="bench-p4-") as tmp:
        broker = RabbitBroker(Path(tmp) / "rabbit")
        broker.start()
        try:
            row = nova_filter.bench_broker(broker, messages, 64)
        finally:
            broker.stop()
    # the listener ran in this process: its peak RSS bounds the listener's
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"msgs_per_s": row["per_second"], "rss_mb": rss}


def _git() -> str:
    done = subprocess.run(["git", "describe", "--always", "--dirty"], capture_output=True,
                          text=True, check=False, cwd=RESULTS.parent)
    return done.stdout.strip()


def main(argv: list[str] | None = None) -> int:
    """Measure, print the table, write the JSON files."""
    args = _parser().parse_args(argv)
    if args.smoke:
        args.sizes, args.concurrency, args.latency, args.repeat = [4], [2], 0.5, 1
        # one Stack only (P1, P4, P5 start their own: minutes on a loaded 2-core machine)
        args.peers, args.p1_incidents, args.p5, args.skip = "ideal,ours,sequential", 0, \
            "none", "p1,p4,p5"
        args.db = "sqlite"  # the production topology alone takes a minute to start
    skip = set(args.skip.split(","))
    results: dict[str, Any] = {}
    details: dict[str, Any] = {"args": {k: str(v) for k, v in vars(args).items()}}
    began = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="bench-recovery-") as tmp_name:
        tmp = args.workdir or Path(tmp_name)
        rows, row_details = [], []
        for n in args.sizes:
            for c in args.concurrency:
                p2, info = p2_rows(tmp, n, c, args.latency, args)
                rows.extend(p2)
                row_details.append(info)
        errors: dict[str, str] = {}
        p1: tuple[list[float], list[float]] = ([], [])
        if "p1" not in skip and args.p1_incidents:
            p1 = _optional("p1", errors, lambda: ours.run_incidents(
                tmp / "p1", args.p1_incidents)) or p1
        p5 = None
        if "p5" not in skip and args.p5 != "none":
            hosts, per_host = (int(x) for x in args.p5.split("x"))
            p5 = _optional("p5", errors, lambda: ours.run_rack(
                tmp / "p5", hosts, per_host, args.latency, min(args.concurrency)))
        p4 = _optional("p4", errors, lambda: _p4(args.p4_messages)) if "p4" not in skip \
            else None
    ours_runs = [r for d in row_details for key, rs in d["runs"].items()
                 if key.startswith("ours") for r in rs]
    mas_runs = [r for d in row_details for r in d["runs"].get("masakari_tuned", [])]
    confirm = [ms for r in ours_runs for ms in r["confirm_ms"]]
    results = {
        "p1_ms": ours.percentiles(p1[0]),
        "p1_first_evacuate_ms": ours.percentiles(p1[1]),
        "p2": rows,
        "p3_ms": ours.percentiles(confirm),
        "p3_requests_per_vm": {
            "ours": _total_per_vm(ours_runs, "evacuable"),
            "masakari": _total_per_vm(mas_runs, "vms")},
        "p4": p4,
        "p5": p5,
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(),
                    "kernel": platform.release(), "load_1m": os.getloadavg()[0]},
        "git": _git(),
    }
    details.update(rows=row_details, errors=errors, p1_samples=len(p1[0]),
                   requests_per_vm={"ours": [_per_vm(r["requests"], r["evacuable"])
                                             for r in ours_runs[:1]],
                                    "masakari": [_per_vm(r["requests"], r["vms"])
                                                 for r in mas_runs[:1]]},
                   wall_s=time.monotonic() - began)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "results.json").write_text(json.dumps(results, indent=2))
    (args.out / "details.json").write_text(json.dumps(details, indent=2, default=str))
    from bench.report import render

    print(render(results, details))
    print(f"written: {args.out / 'results.json'}")
    return 0


def _optional(name: str, errors: dict[str, str], run: Any) -> Any:
    """P1, P4, P5: a failure is reported (None and its error), the other figures are kept."""
    try:
        return run()
    except Exception as exc:
        errors[name] = f"{type(exc).__name__}: {exc}"
        print(f"{name} failed: {errors[name]}", flush=True)
        return None


def _total_per_vm(runs: list[dict[str, Any]], key: str) -> float | None:
    if not runs:
        return None
    return round(float(statistics.median(sum(r["requests"].values()) / max(r[key], 1)
                                         for r in runs)), 2)
