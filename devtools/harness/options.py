"""The cloud flags shared by ``host-recovery-harness demo`` and ``up``.

    --hosts 6 --vms-per-host 100 --latency 1-4 --faults rebuild_error=0.1 --scenario s.yaml
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import yaml

from harness.stack import StackOptions
from simulator.scenario import FaultRates

#: VMs of the default flavors a default-sized simulated host holds (docs/simulator.md: RAM
#: binds first at about 70-85); below it the survivors have room for a failed host's VMs.
HOST_HOLDS = 70


def add_arguments(parser: argparse.ArgumentParser, vms_per_host: int = 10) -> None:
    """Add the cloud flags (sizes, latency, faults, scenario file, Pacemaker)."""
    parser.add_argument("--hosts", type=int, default=4, help="compute hosts (default 4)")
    parser.add_argument("--vms-per-host", type=int, default=vms_per_host,
                        help=f"VMs per host (default {vms_per_host})")
    parser.add_argument("--listeners", type=int, default=2, help="controllers' listeners")
    parser.add_argument("--microversion", default="2.95", help="Nova API version pinned")
    parser.add_argument("--latency", type=_latency, metavar="SECONDS|LOW-HIGH",
                        help="seconds one evacuation takes in the simulator (default 1-4)")
    parser.add_argument("--faults", type=_fault, action="append", default=[],
                        metavar="NAME=RATE", help="simulator fault rate (repeatable): "
                        + ", ".join(FaultRates.__dataclass_fields__))
    parser.add_argument("--scenario", type=_scenario, metavar="FILE",
                        help="simulator scenario (YAML/JSON) over the flags above")
    parser.add_argument("--no-pacemaker", dest="pacemaker", action="store_false",
                        help="publish host-downs with host-recovery-notify, not Pacemaker")
    parser.add_argument("--workdir", type=Path, help="keep files here (default: a temp dir)")


def stack_options(args: argparse.Namespace) -> StackOptions:
    """StackOptions from the parsed flags; a scenario file's hosts/vms win over the flags."""
    scenario: dict[str, Any] = dict(args.scenario or {})
    if args.faults:
        scenario["faults"] = {**scenario.get("faults", {}), **dict(args.faults)}
    hosts = int(scenario.pop("hosts", args.hosts))
    vms = int(scenario.pop("vms_per_host", args.vms_per_host))
    if not _fits(hosts, vms) and not {"free_fraction", "host_ram_mb"} & scenario.keys():
        # Full default hosts cannot take a failed host's VMs: size hosts to leave room.
        scenario["free_fraction"] = round(min(0.9, 1.5 / max(hosts, 2)), 2)
    options = StackOptions(hosts=hosts, vms_per_host=vms, listeners=args.listeners,
                           microversion=args.microversion, scenario=scenario,
                           pacemaker=args.pacemaker)
    if args.latency is not None:
        options.latency = args.latency
    return options


def mistral_sections(pairs: list[str]) -> dict[str, dict[str, str]]:
    """``--mistral-option`` values (``["scheduler.fixed_delay=0.1", ...]``) as mistral.conf
    sections, for A/B runs of Mistral settings (bench, soak)."""
    sections: dict[str, dict[str, str]] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        section, dot, name = key.partition(".")
        if not (sep and dot and section and name):
            raise SystemExit(f"--mistral-option {pair!r}: expected SECTION.KEY=VALUE")
        sections.setdefault(section, {})[name] = value
    return sections


def _fits(hosts: int, vms: int) -> bool:
    return hosts > 1 and (hosts - 1) * (HOST_HOLDS - vms) >= vms


def _latency(text: str) -> dict[str, Any]:
    try:
        if "-" in text:
            low, high = (float(part) for part in text.split("-", 1))
            return {"kind": "uniform", "low": low, "high": high}
        return {"kind": "fixed", "value": float(text)}
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r}: SECONDS or LOW-HIGH") from None


def _fault(text: str) -> tuple[str, float]:
    name, _, rate = text.partition("=")
    if name not in FaultRates.__dataclass_fields__:
        raise argparse.ArgumentTypeError(f"unknown fault {name!r}")
    try:
        return name, float(rate)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r}: NAME=RATE (a number)") from None


def _scenario(text: str) -> dict[str, Any]:
    try:
        raw = Path(text).read_text(encoding="utf-8")
        data = json.loads(raw) if text.endswith(".json") else yaml.safe_load(raw)
    except (OSError, ValueError, yaml.YAMLError) as exc:
        raise argparse.ArgumentTypeError(f"{text}: {exc}") from None
    if not isinstance(data, dict):
        raise argparse.ArgumentTypeError(f"{text}: not a mapping")
    return data
