"""``make soak``: repeat the fault trials (harness.faults) on one production topology.

    python -m harness.soak --suite all --trials 20     # or --suite R1,R3

Prints one row per suite: trials, lost incidents, duplicated executions, VMs evacuated twice,
time to finish after the fault (p50, p99, max), time to resume (p50) and Nova requests per VM.
Exits 1 if any trial was not clean. Suites: harness.fault_suites.SUITES (add yours there).
"""

from __future__ import annotations

import argparse
import math
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

from harness.fault_suites import SUITES
from harness.faults import FaultRunner, Trial, fault_options
from harness.options import mistral_sections
from harness.topology import ProdTopology


def percentile(values: list[float], pct: float) -> float:
    """Nearest-rank percentile (0 for no values)."""
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[max(0, math.ceil(pct / 100 * len(ordered)) - 1)]


def table(results: dict[str, list[Trial]]) -> str:
    """The soak table, one row per suite."""
    lines = [f"{'suite':<6}{'trials':>7}{'lost':>6}{'dup':>5}{'evac2x':>8}"
             f"{'finish p50 s':>14}{'p99 s':>8}{'max s':>8}{'resume p50':>12}"
             f"{'req/VM':>8}"]
    for suite, trials in results.items():
        finish = [t.finish_s for t in trials]
        per_vm = sum(t.requests for t in trials) / max(1, sum(t.vms for t in trials))
        lines.append(f"{suite:<6}{len(trials):>7}{sum(t.lost for t in trials):>6}"
                     f"{sum(t.duplicated for t in trials):>5}"
                     f"{sum(t.evacuated_twice for t in trials):>8}"
                     f"{percentile(finish, 50):>14.1f}{percentile(finish, 99):>8.1f}"
                     f"{max(finish, default=0.0):>8.1f}"
                     f"{_resume(trials):>12}"
                     f"{per_vm:>8.1f}")
    return "\n".join(lines)


def _resume(trials: list[Trial]) -> str:
    """p50 of the time to resume; '-' for suites that do not measure it (R1, R3, R3b)."""
    measured = [t.resume_s for t in trials if t.resume_s > 0]
    return f"{percentile(measured, 50):.1f}" if measured else "-"


def run(suites: list[str], trials: int, workdir: Path,
        mistral_config: dict[str, dict[str, str]] | None = None) -> dict[str, list[Trial]]:
    # twice the hosts the trials fail: evacuated VMs pile up on the hosts left, so a cloud
    # sized to the trials ends with trials on hosts of 50 VMs (R3 trial 20 of a first run)
    hosts = 2 * sum(SUITES[s][0] for s in suites) * trials + 3
    results: dict[str, list[Trial]] = {s: [] for s in suites}
    options = fault_options(hosts=hosts, vms_per_host=4)
    options.mistral_config = mistral_config or {}
    with ProdTopology(workdir, options) as topo:
        print(f"topology up in {topo.start_seconds:.0f} s; RSS MB "
              f"{ {k: round(v) for k, v in topo.rss_mb().items()} }", flush=True)
        faults = FaultRunner(topo, bound=300.0)
        for n in range(trials):
            for suite in suites:
                try:
                    trial = SUITES[suite][1](faults, n)
                except Exception as exc:  # one broken trial is a row of the table, not the end
                    trial = Trial(suite, [], lost=SUITES[suite][0],
                                  notes=[f"trial failed: {exc!r}"[:2000]])
                results[suite].append(trial)
                print(f"{suite} trial {n + 1}: vms {trial.vms} lost {trial.lost} "
                      f"dup {trial.duplicated} evac2x {trial.evacuated_twice} "
                      f"finish {trial.finish_s:.1f} s resume {trial.resume_s:.1f} s "
                      f"requests {trial.requests} {trial.notes}",
                      flush=True)
    return results


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m harness.soak", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--suite", default="all",
                        help=f"all, or comma-separated of {', '.join(SUITES)}")
    parser.add_argument("--trials", type=int, default=20)
    parser.add_argument("--workdir", type=Path)
    parser.add_argument("--mistral-option", action="append", default=[],
                        metavar="SECTION.KEY=VALUE",
                        help="a mistral.conf setting for every Mistral process (A/B runs)")
    args = parser.parse_args(argv)
    wanted = list(SUITES) if args.suite.strip().lower() == "all" else args.suite.split(",")
    names = {s.upper(): s for s in SUITES}
    suites = [names.get(s.strip().upper(), s.strip()) for s in wanted if s.strip()]
    unknown = set(suites) - set(SUITES)
    if unknown:
        parser.error(f"unknown suite(s): {', '.join(sorted(unknown))}")
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="host-recovery-soak-"))
    results = run(suites, args.trials, workdir, mistral_sections(args.mistral_option))
    print(table(results))
    return 0 if all(t.clean for ts in results.values() for t in ts) else 1


if __name__ == "__main__":
    sys.exit(main())
