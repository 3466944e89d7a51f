"""``make soak``: repeat the fault trials (harness.faults) on one production topology.

    python -m harness.soak --suite R1,R3 --trials 20

Prints one row per suite: trials, lost incidents, duplicated executions, VMs evacuated twice,
time to finish after the fault (p50, p99, max). Exits 1 if any trial was not clean.
"""

from __future__ import annotations

import argparse
import math
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

from harness.faults import SUITES, FaultRunner, Trial, fault_options
from harness.topology import ProdTopology

HOSTS_PER_TRIAL = {"R1": 2, "R3": 1}


def percentile(values: list[float], pct: float) -> float:
    """Nearest-rank percentile (0 for no values)."""
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[max(0, math.ceil(pct / 100 * len(ordered)) - 1)]


def table(results: dict[str, list[Trial]]) -> str:
    """The soak table, one row per suite."""
    lines = [f"{'suite':<6}{'trials':>7}{'lost':>6}{'dup':>5}{'evac2x':>8}"
             f"{'finish p50 s':>14}{'p99 s':>8}{'max s':>8}"]
    for suite, trials in results.items():
        finish = [t.finish_s for t in trials]
        lines.append(f"{suite:<6}{len(trials):>7}{sum(t.lost for t in trials):>6}"
                     f"{sum(t.duplicated for t in trials):>5}"
                     f"{sum(t.evacuated_twice for t in trials):>8}"
                     f"{percentile(finish, 50):>14.1f}{percentile(finish, 99):>8.1f}"
                     f"{max(finish, default=0.0):>8.1f}")
    return "\n".join(lines)


def run(suites: list[str], trials: int, workdir: Path) -> dict[str, list[Trial]]:
    hosts = sum(HOSTS_PER_TRIAL[s] for s in suites) * trials + 3
    results: dict[str, list[Trial]] = {s: [] for s in suites}
    with ProdTopology(workdir, fault_options(hosts=hosts, vms_per_host=4)) as topo:
        print(f"topology up in {topo.start_seconds:.0f} s; RSS MB "
              f"{ {k: round(v) for k, v in topo.rss_mb().items()} }", flush=True)
        faults = FaultRunner(topo, bound=300.0)
        for n in range(trials):
            for suite in suites:
                trial = (faults.r1_listener_kill() if suite == "R1"
                         else faults.r3_engine_executor_kill(number=n % 2 + 1))
                results[suite].append(trial)
                print(f"{suite} trial {n + 1}: vms {trial.vms} lost {trial.lost} "
                      f"dup {trial.duplicated} evac2x {trial.evacuated_twice} "
                      f"finish {trial.finish_s:.1f} s {'' if trial.clean else trial.notes}",
                      flush=True)
    return results


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m harness.soak", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--suite", default=",".join(SUITES),
                        help=f"comma-separated, of {', '.join(SUITES)}")
    parser.add_argument("--trials", type=int, default=20)
    parser.add_argument("--workdir", type=Path)
    args = parser.parse_args(argv)
    suites = [s.strip().upper() for s in args.suite.split(",") if s.strip()]
    unknown = set(suites) - set(SUITES)
    if unknown:
        parser.error(f"unknown suite(s): {', '.join(sorted(unknown))}")
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="host-recovery-soak-"))
    results = run(suites, args.trials, workdir)
    print(table(results))
    return 0 if all(t.clean for ts in results.values() for t in ts) else 1


if __name__ == "__main__":
    sys.exit(main())
