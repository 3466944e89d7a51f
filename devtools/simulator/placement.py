"""Placement's model: one resource provider per compute node, its inventories, and the
allocations of every consumer (a VM) by provider; usages are kept as running sums so that
asking for candidates over a thousand providers stays cheap."""

from __future__ import annotations

from dataclasses import dataclass, field

from simulator.model import Flavor

RESOURCE_CLASSES = ("VCPU", "MEMORY_MB", "DISK_GB")
Amounts = tuple[int, int, int]  # in RESOURCE_CLASSES order


def flavor_amounts(flavor: Flavor) -> Amounts:
    """What a flavor asks of Placement, as Nova's resources_from_flavor (swap MB -> GB)."""
    swap_gb = -(-flavor.swap // 1024)
    return flavor.vcpus, flavor.ram, flavor.disk + flavor.ephemeral + swap_gb


@dataclass
class Inventory:
    """One resource class of a provider, with Nova's fields."""

    total: int
    reserved: int
    allocation_ratio: float
    min_unit: int = 1
    step_size: int = 1
    max_unit: int = 0  # 0: total
    # What may be allocated: (total - reserved) x allocation_ratio, as Placement. Computed
    # once: candidates over a thousand providers read it three times each.
    capacity: int = field(init=False)
    limit: int = field(init=False)  # the largest single allocation (max_unit)

    def __post_init__(self) -> None:
        self.capacity = int((self.total - self.reserved) * self.allocation_ratio)
        self.limit = self.max_unit or self.total

    def view(self) -> dict[str, int | float]:
        """Placement's JSON for this inventory."""
        return {"total": self.total, "reserved": self.reserved, "min_unit": self.min_unit,
                "max_unit": self.max_unit or self.total, "step_size": self.step_size,
                "allocation_ratio": self.allocation_ratio}


@dataclass
class Provider:
    """A compute node's resource provider (name: the hypervisor hostname)."""

    uuid: str
    name: str
    inventories: dict[str, Inventory]
    generation: int = 1
    used: list[int] = field(default_factory=lambda: [0, 0, 0])

    def fits(self, amounts: Amounts) -> bool:
        """Placement's check for one allocation: units, and used + amount <= capacity."""
        for index, rc in enumerate(RESOURCE_CLASSES):
            amount = amounts[index]
            if amount == 0:
                continue
            inv = self.inventories.get(rc)
            if inv is None or amount < inv.min_unit or amount > inv.limit:
                return False
            if self.used[index] + amount > inv.capacity:
                return False
        return True

    def free(self) -> Amounts:
        """Capacity left per resource class (negative when overcommitted by hand)."""
        caps = [self.inventories[rc].capacity if rc in self.inventories else 0
                for rc in RESOURCE_CLASSES]
        return caps[0] - self.used[0], caps[1] - self.used[1], caps[2] - self.used[2]


@dataclass(slots=True)  # one per VM: 100,000 in the largest bench
class Consumer:
    """A consumer's allocations, by provider name."""

    project_id: str
    user_id: str
    allocations: dict[str, Amounts] = field(default_factory=dict)
    generation: int = 0


class Placement:
    """Providers and allocations; callers hold the cloud lock."""

    def __init__(self) -> None:
        self.providers: dict[str, Provider] = {}  # name -> provider
        self.by_uuid: dict[str, Provider] = {}
        self.consumers: dict[str, Consumer] = {}

    def add_provider(self, provider: Provider) -> None:
        """Register a compute node's provider."""
        self.providers[provider.name] = provider
        self.by_uuid[provider.uuid] = provider

    def claim(self, consumer: str, project_id: str, user_id: str, name: str,
              amounts: Amounts, check: bool = True) -> bool:
        """Allocate ``amounts`` on provider ``name`` for ``consumer``; False (nothing
        changed) when ``check`` and it does not fit, as Placement's 409."""
        provider = self.providers[name]
        entry = self.consumers.setdefault(consumer, Consumer(project_id, user_id))
        if name in entry.allocations:
            return True
        if check and not provider.fits(amounts):
            return False
        entry.allocations[name] = amounts
        entry.generation += 1
        for index in range(3):
            provider.used[index] += amounts[index]
        provider.generation += 1
        return True

    def release(self, consumer: str, name: str) -> None:
        """Drop ``consumer``'s allocation on provider ``name`` (if any)."""
        entry = self.consumers.get(consumer)
        if entry is None or name not in entry.allocations:
            return
        amounts = entry.allocations.pop(name)
        entry.generation += 1
        provider = self.providers[name]
        for index in range(3):
            provider.used[index] -= amounts[index]
        provider.generation += 1

    def holders(self, name: str) -> list[str]:
        """Consumers with an allocation on provider ``name``."""
        return [c for c, entry in self.consumers.items() if name in entry.allocations]

    def usage(self, name: str) -> Amounts:
        """Used amounts on provider ``name``."""
        used = self.providers[name].used
        return used[0], used[1], used[2]
