"""Run the project's benchmarks: ``python -m bench [--smoke] [options]`` or ``python -m bench
NAME [options]``.

Without a name it runs ``recovery`` (issue 13: ours side by side with Masakari, the ideal and
the fence_compute loop; ``bench-results/results.json``). Other names: ``profile DIR`` (where a
kept run's per-VM time went), ``simulator_api``, ``nova_filter``, ``capacity`` (the
failover-capacity analysis at 1,000 hosts), ``all``. Measurements, never
pass/fail tests; ratios are measured side by side in one run because this machine is noisy.
"""

from __future__ import annotations

import notifications.quiet  # noqa: F401  # isort: skip  (first: see notifications/quiet.py)
import importlib
import sys

BENCHES = ["recovery", "profile", "simulator_api", "nova_filter", "capacity"]


def main(argv: list[str] | None = None) -> int:
    """Run the named bench (default ``recovery``) with the remaining arguments."""
    args = list(argv if argv is not None else sys.argv[1:])
    name = args.pop(0) if args and not args[0].startswith("-") else "recovery"
    if name not in [*BENCHES, "all"]:
        print(f"unknown bench: {name}; known: {', '.join(BENCHES)}, all")
        return 2
    for bench in [b for b in BENCHES if b != "profile"] if name == "all" else [name]:
        print(f"== bench.{bench}", flush=True)
        module = importlib.import_module(f"bench.{bench}")
        status = module.main(args if bench == name else [])
        if status:
            return int(status)
    return 0


if __name__ == "__main__":
    sys.exit(main())
