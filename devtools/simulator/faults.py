"""Failure injection and latency draws: one seeded random source, rates changeable live."""

from __future__ import annotations

import random
import threading
from typing import Any

from simulator.scenario import FaultRates


class Dice:
    """Decides, per event, whether an injected failure happens; draws latencies."""

    def __init__(self, rates: FaultRates, latency: dict[str, Any],
                 power_latency: dict[str, Any], seed: int) -> None:
        self.rates = rates
        self.latency = dict(latency)
        self.power_latency = dict(power_latency)
        self._rng = random.Random(seed)
        self._lock = threading.Lock()

    def roll(self, name: str) -> bool:
        """True with probability ``rates.<name>``."""
        rate = float(getattr(self.rates, name))
        if rate <= 0.0:
            return False
        with self._lock:
            return self._rng.random() < rate

    def take(self, name: str) -> bool:
        """True while the count ``rates.<name>`` is at least one (then one less)."""
        with self._lock:
            left = float(getattr(self.rates, name))
            if left < 1.0:
                return False
            setattr(self.rates, name, left - 1.0)
            return True

    def update(self, values: dict[str, Any]) -> None:
        """Change rates (and ``latency``/``power_latency`` distributions) at runtime."""
        values = dict(values)
        for key in ("latency", "power_latency"):
            if key in values:
                draw_latency(values[key], random.Random(0))  # validate before applying
                setattr(self, key, dict(values.pop(key)))
        self.rates.update(values)

    def evacuation_seconds(self) -> float:
        """Time for one rebuild on the destination."""
        with self._lock:
            return draw_latency(self.latency, self._rng)

    def power_seconds(self) -> float:
        """Time for one stop or start."""
        with self._lock:
            return draw_latency(self.power_latency, self._rng)

    def as_dict(self) -> dict[str, Any]:
        """Current settings, JSON-friendly."""
        return dict(self.rates.as_dict(), latency=self.latency,
                    power_latency=self.power_latency)


def draw_latency(spec: dict[str, Any], rng: random.Random) -> float:
    """One draw from ``{"kind": fixed|uniform|lognormal|exponential, ...}`` in seconds."""
    kind = spec.get("kind", "fixed")
    if kind == "fixed":
        return max(0.0, float(spec["value"]))
    if kind == "uniform":
        return rng.uniform(float(spec["low"]), float(spec["high"]))
    if kind == "lognormal":
        value = rng.lognormvariate(float(spec["mu"]), float(spec["sigma"]))
        return min(value, float(spec.get("max", 3600.0)))
    if kind == "exponential":
        return min(rng.expovariate(1.0 / float(spec["mean"])), float(spec.get("max", 3600.0)))
    raise ValueError(f"unknown latency kind {kind!r}")
