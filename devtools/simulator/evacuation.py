"""Evacuation as Nova does it: API checks, then conductor scheduling and the rebuild on the
destination, run later on the worker pool with Nova's notifications in Nova's order."""

from __future__ import annotations

import time
from typing import Any, Protocol

from simulator import payloads
from simulator.cloud import Cloud
from simulator.errors import NovaError, invalid_state, not_found
from simulator.faults import Dice
from simulator.model import (
    ACTIVE,
    ERROR,
    POWERING_OFF,
    REBUILDING,
    RUNNING,
    SHUTDOWN,
    STOPPED,
    Migration,
    Server,
    isotime,
)
from simulator.payloads import Actor
from simulator.scheduler import host_passes, select_destination
from simulator.worker import DelayedExecutor

NO_VALID_HOST = "No valid host was found. There are not enough hosts available."


class Emitter(Protocol):
    """Where notifications go (the NotificationQueue, or a list in unit tests)."""

    def emit(self, publisher_id: str, event_type: str, priority: str,
             payload: dict[str, Any]) -> None: ...


class Evacuator:
    """``evacuate()`` answers on the request thread; the rest runs on ``delayer``."""

    def __init__(self, cloud: Cloud, dice: Dice, emitter: Emitter,
                 delayer: DelayedExecutor) -> None:
        self.cloud = cloud
        self.dice = dice
        self.emitter = emitter
        self.delayer = delayer

    def evacuate(self, server_id: str, host: str | None, force: bool, end_stopped: bool,
                 actor: Actor) -> None:
        """Nova's compute API checks, in Nova's order; raises NovaError."""
        cloud = self.cloud
        with cloud.lock:
            server = cloud.servers.get(server_id)
            if server is None:
                raise not_found(server_id)
            if host is not None:
                if cloud.compute_service(host) is None:
                    raise NovaError(404, f"Compute host {host} could not be found.")
                if host == server.host:
                    raise NovaError(400, "The target host can't be the same one.")
            if server.vm_state not in (ACTIVE, STOPPED, ERROR):
                raise invalid_state("evacuate", server.id, "vm_state", server.vm_state)
            if server.task_state is not None:
                raise invalid_state("evacuate", server.id, "task_state", server.task_state)
            source = cloud.compute_service(server.host)
            if source is not None and cloud.service_is_up(source):
                raise NovaError(400, f"Compute service of {server.host} is still in use.")
            original = server.vm_state
            server.task_state = REBUILDING
            server.touch()
            migration = cloud.new_migration(server, host)
            self.emitter.emit(f"nova-api:{cloud.api_host}", "instance.evacuate", "INFO",
                              payloads.instance_action(server, actor))
        total = self.dice.evacuation_seconds()
        self.delayer.call_later(total * 0.2, lambda: self._conduct(
            server, migration, host, force, original, end_stopped, actor, total * 0.8))

    def _conduct(self, server: Server, migration: Migration, host: str | None, force: bool,
                 original: str, end_stopped: bool, actor: Actor, rebuild_time: float) -> None:
        """nova-conductor: pick the destination (or fail with NoValidHost)."""
        cloud = self.cloud
        with cloud.lock:
            if host is not None and force:
                # Forced: no filters, but the claim in Placement must still succeed (Nova's
                # conductor claims on a forced destination and fails with NoValidHost).
                dest: str | None = host
            elif host is not None:
                dest = host if host_passes(cloud, server, host) else None
            else:
                dest = select_destination(cloud, server)
            if dest is None or self.dice.roll("no_valid_host") \
                    or not cloud.claim(server, dest):
                self._no_valid_host(server, migration, original, actor)
                return
            server.claimed_host = dest
            migration.dest_compute = dest
            migration.status = "pre-migrating"
            migration.updated_at = isotime()
            self.emitter.emit(f"nova-conductor:{dest}", "instance.rebuild_scheduled", "INFO",
                              payloads.instance_rebuild(server, actor))
            self.emitter.emit(f"nova-compute:{dest}", "instance.rebuild.start", "INFO",
                              payloads.instance_rebuild(server, actor))
        self.delayer.call_later(rebuild_time, lambda: self._rebuild(
            server, migration, dest, original, end_stopped, actor))

    def _no_valid_host(self, server: Server, migration: Migration, original: str,
                       actor: Actor) -> None:
        conductor = f"nova-conductor:{self.cloud.api_host}"
        migration.status = "error"
        migration.updated_at = isotime()
        reason = payloads.exception("NoValidHost", NO_VALID_HOST, "_schedule_instances",
                                    "nova.conductor.manager")
        server.vm_state, server.task_state = ERROR, None
        server.fault = {"code": 500, "message": NO_VALID_HOST, "created": isotime()}
        server.touch()
        self.emitter.emit(conductor, "compute_task.rebuild_server.error", "ERROR",
                          payloads.compute_task(server, reason))
        self.emitter.emit(conductor, "instance.update", "INFO",
                          payloads.instance_update(server, actor, original, REBUILDING))

    def _rebuild(self, server: Server, migration: Migration, dest: str, original: str,
                 end_stopped: bool, actor: Actor) -> None:
        """nova-compute on ``dest``: the rebuild ends (or fails)."""
        compute = f"nova-compute:{dest}"
        cloud = self.cloud
        with cloud.lock:
            source = server.host
            server.claimed_host = None
            migration.updated_at = isotime()
            if self.dice.roll("rebuild_error"):
                # Nova drops the destination's allocation of a failed evacuation.
                cloud.release(server, dest)
                self._rebuild_error(server, migration, original, actor, compute)
                return
            # The source's allocation stays until its nova-compute restarts (revive_host).
            if original == STOPPED and not end_stopped:
                # Nova brings a stopped VM back to its original state before rebuild.end.
                server.vm_state, server.task_state = ACTIVE, POWERING_OFF
                self.emitter.emit(compute, "instance.power_off.start", "INFO",
                                  payloads.instance_action(server, actor))
                server.vm_state, server.task_state = STOPPED, None
                server.power_state = SHUTDOWN
                self.emitter.emit(compute, "instance.power_off.end", "INFO",
                                  payloads.instance_action(server, actor))
            stopped = end_stopped or original == STOPPED
            server.host = dest
            server.vm_state = STOPPED if stopped else ACTIVE
            server.power_state = SHUTDOWN if stopped else RUNNING
            server.task_state = None
            server.fault = None
            server.launched_at = time.time()
            server.touch()
            migration.status = "done"
            # The payload still names the source: Nova moves instance.host after rebuild.end.
            self.emitter.emit(compute, "instance.rebuild.end", "INFO",
                              payloads.instance_rebuild(server, actor, host=source))
            self.emitter.emit(compute, "instance.update", "INFO",
                              payloads.instance_update(server, actor, original, REBUILDING))

    def _rebuild_error(self, server: Server, migration: Migration, original: str,
                       actor: Actor, compute: str) -> None:
        message = "Virtual Interface creation failed"
        migration.status = "failed"
        server.vm_state, server.task_state = ERROR, None
        server.fault = {"code": 500, "message": message, "created": isotime()}
        server.touch()
        fault = payloads.exception("VirtualInterfaceCreateException", message,
                                   "_create_domain_and_network",
                                   "nova.virt.libvirt.driver")
        self.emitter.emit(compute, "instance.rebuild.error", "ERROR",
                          payloads.instance_rebuild(server, actor, fault=fault))
        self.emitter.emit(compute, "instance.update", "INFO",
                          payloads.instance_update(server, actor, original, REBUILDING))
