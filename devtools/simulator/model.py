"""The simulated cloud's objects, shaped after Nova's own (vm_state, task_state, ...)."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

# Nova's power_state integers and their notification names.
NOSTATE, RUNNING, SHUTDOWN = 0, 1, 4
POWER_NAMES = {NOSTATE: "pending", RUNNING: "running", 3: "paused", SHUTDOWN: "shutdown",
               6: "crashed", 7: "suspended"}

ACTIVE, STOPPED, ERROR = "active", "stopped", "error"
REBUILDING, POWERING_OFF, POWERING_ON = "rebuilding", "powering-off", "powering-on"


def isotime(epoch: float | None = None) -> str:
    """Nova's API time format (seconds, Z)."""
    moment = datetime.fromtimestamp(time.time() if epoch is None else epoch, UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def db_time(epoch: float) -> str:
    """A datetime column as Nova's API shows it (the database keeps whole seconds)."""
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%dT%H:%M:%S.000000")


@dataclass
class Flavor:
    """A flavor with its extra specs."""

    id: str
    name: str
    vcpus: int
    ram: int
    disk: int
    extra_specs: dict[str, str] = field(default_factory=dict)
    ephemeral: int = 0
    swap: int = 0
    is_public: bool = True
    description: str | None = None


@dataclass
class Image:
    """A Glance image; ``properties`` are its custom (hw_*, os_*) properties."""

    id: str
    name: str
    properties: dict[str, str] = field(default_factory=dict)
    created_at: str = "2024-01-01T00:00:00Z"
    size: int = 25165824


@dataclass
class Service:
    """A Nova service; a compute service also carries its host's capacity."""

    uuid: str
    id: int
    host: str
    binary: str
    zone: str
    disabled: bool = False
    disabled_reason: str | None = None
    forced_down: bool = False
    failed_at: float | None = None  # monotonic time the host stopped heartbeating
    # Wall times of the heartbeat (see simulator.heartbeat): when reporting (re)started and
    # stopped, and the last save other than a heartbeat.
    reporting_since: float = field(default_factory=time.time)
    stopped_reporting: float | None = None
    written_at: float = field(default_factory=time.time)
    reports_before: int = 0
    vcpus: int = 0
    ram_mb: int = 0


@dataclass
class Server:
    """A VM (Nova instance)."""

    id: str
    name: str
    project_id: str
    user_id: str
    host: str
    flavor: Flavor
    image: Image
    created: float
    vm_state: str = ACTIVE
    task_state: str | None = None
    power_state: int = RUNNING
    locked: bool = False
    locked_reason: str | None = None
    locked_by: str | None = None  # "owner" or "admin", as Nova's instance.locked_by
    metadata: dict[str, str] = field(default_factory=dict)
    server_group: str | None = None
    tags: list[str] = field(default_factory=list)
    ip: str = "10.0.0.2"
    mac: str = "fa:16:3e:00:00:02"
    port_id: str = ""
    fault: dict[str, Any] | None = None
    updated: float = field(default_factory=time.time)
    launched_at: float | None = None
    seq: int = 0  # creation order, Nova's default sort key
    claimed_host: str | None = None  # destination reserved while an evacuation runs
    availability_zone: str | None = None  # the zone it was booted into (pinned), if any

    def touch(self) -> None:
        """Record a change (the API's ``updated``)."""
        self.updated = time.time()


@dataclass
class ServerGroup:
    """A server group and its member VM ids."""

    id: str
    name: str
    policy: str
    project_id: str
    user_id: str
    members: list[str] = field(default_factory=list)


@dataclass
class Aggregate:
    """A host aggregate."""

    id: int
    uuid: str
    name: str
    availability_zone: str | None
    hosts: list[str] = field(default_factory=list)
    metadata: dict[str, str] = field(default_factory=dict)
    created_at: str = field(default_factory=isotime)


@dataclass
class Migration:
    """A migration record; evacuations are ``migration_type == "evacuation"``."""

    id: int
    uuid: str
    instance_uuid: str
    source_compute: str
    dest_compute: str | None
    status: str
    project_id: str
    user_id: str
    migration_type: str = "evacuation"
    created_at: str = field(default_factory=isotime)
    updated_at: str = field(default_factory=isotime)
