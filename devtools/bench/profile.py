"""Where a VM's recovery time goes, from a kept run: ``python -m bench profile DIR``.

DIR is one run's Stack directory (the recovery bench with ``--workdir`` keeps them; it saves
the simulator's request log and notifications there as ``requests.json`` and
``notifications.json``). Per VM, in wall time (Mistral's own timestamps are whole seconds):
our first request → lock → evacuate accepted → Nova's ``rebuild.end`` (the simulated work)
→ the listener completed the wait → ``os-start`` (when the VM was active) → unlock; each
segment's median and mean, and how busy the concurrency slots were.
"""

from __future__ import annotations

import argparse
import itertools
import json
import statistics
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

STEPS = ["first", "lock", "evacuate", "rebuild.end", "confirmed", "os-start", "unlock"]


def _vm(path: str) -> str | None:
    parts = path.split("?", maxsplit=1)[0].split("/")
    return next((p for p in parts if len(p) == 36 and p.count("-") == 4), None)


def _log_time(line: str) -> float:
    day, clock = line.split()[:2]
    return time.mktime(time.strptime(f"{day} {clock[:8]}", "%Y-%m-%d %H:%M:%S")) + float(
        f"0.{clock[9:]}")


def timelines(workdir: Path) -> dict[str, dict[str, float]]:
    """Per VM id: epoch time of each step it reached."""
    seen: dict[str, dict[str, float]] = defaultdict(dict)
    for entry in json.loads((workdir / "requests.json").read_text()):
        vm = _vm(str(entry["path"]))
        if vm is None or entry["service"] == "identity":
            continue
        done = float(entry["time"]) + float(entry["duration"])
        seen[vm].setdefault("first", float(entry["time"]))
        if entry.get("action") in STEPS and entry["status"] < 300:
            seen[vm].setdefault(str(entry["action"]), done)
    for record in json.loads((workdir / "notifications.json").read_text()):
        if record["event_type"] == "instance.rebuild.end" and record["instance_uuid"] in seen:
            seen[record["instance_uuid"]].setdefault("rebuild.end", float(record["time"]))
    for log in workdir.glob("listeners/*/*.log"):
        for line in log.read_text(errors="replace").splitlines():
            if "completed by instance.rebuild.end" in line:
                words = line.split()
                vm = words[words.index("instance") + 1]
                if vm in seen:
                    seen[vm].setdefault("confirmed", _log_time(line))
    return {vm: steps for vm, steps in seen.items() if "evacuate" in steps}


def profile(workdir: Path, concurrency: int | None = None) -> str:
    """The table for one kept run."""
    lines_of = timelines(workdir)
    segments: dict[str, list[float]] = defaultdict(list)
    spans = []
    for steps in lines_of.values():
        reached = [s for s in STEPS if s in steps]
        for a, b in itertools.pairwise(reached):
            segments[f"{a} -> {b}"].append(steps[b] - steps[a])
        spans.append((steps["first"], steps.get("unlock", max(steps.values()))))
    if not spans:
        return "no evacuated VM in the request log"
    busy = sum(end - start for start, end in spans)
    wall = max(e for _, e in spans) - min(s for s, _ in spans)
    out = [f"{len(spans)} VMs; per VM first request -> unlock: median "
           f"{statistics.median(e - s for s, e in spans):.2f} s; wall {wall:.1f} s; "
           f"{len(spans) / wall:.2f} VMs/s; mean VMs in flight {busy / wall:.1f}"
           + (f" of {concurrency}" if concurrency else ""),
           f"{'segment':28} {'count':>6} {'median s':>9} {'mean s':>8}"]
    for name, values in segments.items():
        out.append(f"{name:28} {len(values):>6} {statistics.median(values):>9.3f} "
                   f"{statistics.fmean(values):>8.3f}")
    return "\n".join(out)


def save(workdir: Path, requests: list[dict[str, Any]], notifications: list[Any]) -> None:
    """Keep what ``profile`` reads next to the run's other files."""
    (workdir / "requests.json").write_text(json.dumps(requests))
    (workdir / "notifications.json").write_text(json.dumps(notifications))


def main(argv: list[str] | None = None) -> int:
    """Print the profile of every kept run under DIR."""
    parser = argparse.ArgumentParser(prog="python -m bench profile", description=__doc__)
    parser.add_argument("workdir", type=Path)
    parser.add_argument("--concurrency", type=int, help="the run's C, for the slot figure")
    args = parser.parse_args(argv)
    for found in sorted(args.workdir.rglob("requests.json")):
        print(f"== {found.parent}\n{profile(found.parent, args.concurrency)}")
    return 0
