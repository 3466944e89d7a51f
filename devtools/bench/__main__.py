"""Run every benchmark of the project: ``python -m bench [name ...]``.

Each bench module prints its own table and writes JSON under ``bench-results/``; they are
measurements, never pass/fail tests. Ratios are measured side by side in one run because
this machine is noisy.
"""

from __future__ import annotations

import importlib
import sys

BENCHES = ["simulator_api", "nova_filter"]


def main(argv: list[str] | None = None) -> int:
    """Run the named benches (default: all) one after the other."""
    names = (argv if argv is not None else sys.argv[1:]) or BENCHES
    unknown = [name for name in names if name not in BENCHES]
    if unknown:
        print(f"unknown bench: {', '.join(unknown)}; known: {', '.join(BENCHES)}")
        return 2
    for name in names:
        print(f"== bench.{name}")
        module = importlib.import_module(f"bench.{name}")
        module.main([])
    return 0


if __name__ == "__main__":
    sys.exit(main())
