"""What the simulated cloud looks like: hosts, VMs, latencies, fault rates, credentials.

A scenario is a plain dict (YAML or JSON file, or CLI flags) merged over ``DEFAULTS``::

    scenario = Scenario.from_dict({"hosts": 8, "vms_per_host": 20,
                                   "faults": {"rebuild_error": 0.1}})
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

DEFAULTS: dict[str, Any] = {
    "seed": 42,
    "region": "RegionOne",
    "api_host": "controller",
    "host_prefix": "compute",
    "hosts": 4,
    "host_vcpus": 64,
    "host_ram_mb": 262144,
    "host_disk_gb": 8192,
    # Per-host sizes over the three above: {"compute2": {"vcpus": 8, "ram_mb": 16384}}.
    "host_capacities": {},
    # Placement inventories: Nova's initial_*_allocation_ratio and reserved_host_* defaults.
    "allocation_ratios": {"VCPU": 16.0, "MEMORY_MB": 1.5, "DISK_GB": 1.0},
    "reserved": {"VCPU": 0, "MEMORY_MB": 512, "DISK_GB": 0},
    # A tight cloud on purpose: size each host to its VMs so that this fraction of each
    # resource's capacity stays free (None: use the sizes above).
    "free_fraction": None,
    # Fraction of VMs booted into their host's availability zone (pinned there).
    "pinned_az_fraction": 0.0,
    "vms_per_host": 5,
    "projects": ["admin", "demo", "alt_demo"],
    "service_down_time": 60.0,
    "report_interval": 10.0,
    "token_ttl": 3600.0,
    "credentials": [
        {"user": "admin", "password": "secret", "project": "admin", "domain": "Default",
         "roles": ["admin", "member", "reader"]},
    ],
    "flavors": [
        {"name": "m1.small", "vcpus": 1, "ram": 2048, "disk": 20, "extra_specs": {}},
        {"name": "m1.medium", "vcpus": 2, "ram": 4096, "disk": 40,
         "extra_specs": {"hw:cpu_policy": "shared"}},
        {"name": "m1.large", "vcpus": 4, "ram": 8192, "disk": 80,
         "extra_specs": {"hw:cpu_policy": "dedicated", "hw:mem_page_size": "large"}},
    ],
    "images": [
        {"name": "cirros-0.6.2", "properties": {"hw_architecture": "x86_64"}},
        {"name": "ubuntu-24.04", "properties": {"hw_architecture": "x86_64",
                                                "os_distro": "ubuntu"}},
    ],
    # Weighted mixes: each VM draws one entry.
    "states": {"active": 0.8, "stopped": 0.15, "error": 0.05},
    "metadata": [
        {"weight": 0.7, "metadata": {}},
        {"weight": 0.3, "metadata": {"HA_Enabled": "True", "evacuation_priority": "10"}},
    ],
    "server_groups": [
        {"name": "web-anti", "policy": "anti-affinity", "members": 2},
    ],
    "aggregates": [
        {"name": "ha-hosts", "hosts": "all", "metadata": {"ha": "true"}},
    ],
    # Seconds for one evacuation (scheduling + rebuild) and one stop/start.
    "latency": {"kind": "uniform", "low": 0.2, "high": 0.6},
    "power_latency": {"kind": "fixed", "value": 0.05},
    "faults": {},
}


@dataclass
class FaultRates:
    """Probabilities (0..1) and sizes of injected failures; changeable at runtime."""

    http_5xx: float = 0.0
    slow: float = 0.0
    slow_seconds: float = 1.0
    rebuild_error: float = 0.0
    no_valid_host: float = 0.0
    notif_drop: float = 0.0
    notif_delay: float = 0.0
    notif_delay_seconds: float = 1.0
    notif_duplicate: float = 0.0
    # a count, not a rate: the next N evacuate requests get a 500 before Nova accepts them
    evacuate_5xx: float = 0.0

    def update(self, values: dict[str, Any]) -> None:
        """Apply known keys; unknown keys are an error so typos do not pass silently."""
        for key, value in values.items():
            if key not in self.__dataclass_fields__:
                raise ValueError(f"unknown fault setting {key!r}")
            setattr(self, key, float(value))

    def as_dict(self) -> dict[str, float]:
        """JSON-friendly view."""
        return {name: float(getattr(self, name)) for name in self.__dataclass_fields__}


@dataclass
class Scenario:
    """A validated scenario; ``raw`` keeps every setting (defaults merged)."""

    raw: dict[str, Any]
    faults: FaultRates = field(default_factory=FaultRates)

    def __getitem__(self, key: str) -> Any:
        return self.raw[key]

    @classmethod
    def from_dict(cls, overrides: dict[str, Any] | None = None) -> Scenario:
        """Merge ``overrides`` over the defaults (one level deep for dicts)."""
        raw = copy.deepcopy(DEFAULTS)
        for key, value in (overrides or {}).items():
            if key not in DEFAULTS:
                raise ValueError(f"unknown scenario setting {key!r}")
            if isinstance(value, dict) and isinstance(raw[key], dict) \
                    and key not in ("states", "host_capacities"):
                raw[key].update(value)
            else:
                raw[key] = value
        faults = FaultRates()
        faults.update(raw["faults"])
        return cls(raw=raw, faults=faults)

    @classmethod
    def from_file(cls, path: Path, overrides: dict[str, Any] | None = None) -> Scenario:
        """Load a YAML (or JSON, a subset of YAML) file, then apply ``overrides``."""
        loaded = yaml.safe_load(path.read_text()) or {}
        if not isinstance(loaded, dict):
            raise ValueError(f"{path}: a scenario is a mapping")
        loaded.update(overrides or {})
        return cls.from_dict(loaded)

    def to_json(self) -> str:
        """The effective scenario, for logs and for passing to a subprocess."""
        raw = dict(self.raw, faults=self.faults.as_dict())
        return json.dumps(raw)
