"""Server actions other than evacuate (stop, start, lock, reset) and service updates."""

from __future__ import annotations

from simulator import payloads
from simulator.cloud import Cloud
from simulator.errors import NovaError, invalid_state, not_found
from simulator.evacuation import Emitter
from simulator.faults import Dice
from simulator.model import (
    ACTIVE,
    ERROR,
    POWERING_OFF,
    POWERING_ON,
    RUNNING,
    SHUTDOWN,
    STOPPED,
    Server,
    Service,
)
from simulator.payloads import Actor
from simulator.worker import DelayedExecutor


class ComputeActions:
    """Nova's compute API for the simple actions; power changes finish on the workers."""

    def __init__(self, cloud: Cloud, dice: Dice, emitter: Emitter,
                 delayer: DelayedExecutor) -> None:
        self.cloud = cloud
        self.dice = dice
        self.emitter = emitter
        self.delayer = delayer

    def server(self, server_id: str) -> Server:
        """The server, or 404."""
        server = self.cloud.servers.get(server_id)
        if server is None:
            raise not_found(server_id)
        return server

    def _check(self, server: Server, action: str, states: tuple[str, ...],
               is_admin: bool) -> None:
        # Nova's check_instance_lock (admins pass), check_instance_host, check_instance_state.
        if server.locked and not is_admin:
            raise NovaError(409, f"Instance {server.id} is locked")
        service = self.cloud.compute_service(server.host)
        if service is None or not self.cloud.service_is_up(service):
            raise NovaError(503, "Service is unavailable at this time.")
        if server.vm_state not in states:
            raise invalid_state(action, server.id, "vm_state", server.vm_state)
        if server.task_state is not None:
            raise invalid_state(action, server.id, "task_state", server.task_state)

    def stop(self, server_id: str, actor: Actor, is_admin: bool) -> None:
        """os-stop: powering-off now, stopped after the power latency."""
        with self.cloud.lock:
            server = self.server(server_id)
            self._check(server, "stop", (ACTIVE, ERROR), is_admin)
            server.task_state = POWERING_OFF
            server.touch()
            self._emit(server, actor, "instance.power_off.start")
        self.delayer.call_later(self.dice.power_seconds(),
                                lambda: self._finish(server, actor, STOPPED))

    def start(self, server_id: str, actor: Actor, is_admin: bool) -> None:
        """os-start: powering-on now, active after the power latency."""
        with self.cloud.lock:
            server = self.server(server_id)
            self._check(server, "start", (STOPPED,), is_admin)
            server.task_state = POWERING_ON
            server.touch()
            self._emit(server, actor, "instance.power_on.start")
        self.delayer.call_later(self.dice.power_seconds(),
                                lambda: self._finish(server, actor, ACTIVE))

    def _finish(self, server: Server, actor: Actor, state: str) -> None:
        with self.cloud.lock:
            server.vm_state, server.task_state = state, None
            server.power_state = RUNNING if state == ACTIVE else SHUTDOWN
            server.touch()
            event = "power_on" if state == ACTIVE else "power_off"
            self._emit(server, actor, f"instance.{event}.end")

    def _emit(self, server: Server, actor: Actor, event_type: str) -> None:
        self.emitter.emit(f"nova-compute:{server.host}", event_type, "INFO",
                          payloads.instance_action(server, actor))

    def lock(self, server_id: str, reason: str | None, actor: Actor) -> None:
        """lock (reason from 2.73); locked_by "owner" when the caller's project owns the VM,
        else "admin" (Nova's compute API)."""
        with self.cloud.lock:
            server = self.server(server_id)
            server.locked, server.locked_reason = True, reason
            server.locked_by = "owner" if actor.project_id == server.project_id else "admin"
            server.touch()

    def unlock(self, server_id: str, is_admin: bool = True) -> None:
        """unlock; only an admin may unlock a VM an admin locked (unlock_override)."""
        with self.cloud.lock:
            server = self.server(server_id)
            if server.locked_by == "admin" and not is_admin:
                raise NovaError(403, "Policy doesn't allow os_compute_api:os-lock-server:"
                                     "unlock:unlock_override to be performed.")
            server.locked, server.locked_reason, server.locked_by = False, None, None
            server.touch()

    def reset_state(self, server_id: str, state: str) -> None:
        """os-resetState: vm_state active or error, task_state cleared."""
        if state not in (ACTIVE, ERROR):
            raise NovaError(400, "Invalid input for field/attribute state. "
                                 f"Value: {state}. '{state}' is not one of ['active', 'error']")
        with self.cloud.lock:
            server = self.server(server_id)
            server.vm_state, server.task_state = state, None
            server.touch()

    def update_service(self, service: Service, disabled: bool | None = None,
                       reason: str | None = None, forced_down: bool | None = None) -> None:
        """Change a service and emit service.update, as Service.save() does."""
        with self.cloud.lock:
            if forced_down is False and service.forced_down and self._has_done_evacuations(
                    service.host):
                raise NovaError(400, f"Service {service.uuid} cannot be un-forced down "
                                     "while evacuated instances still exist on its host.")
            if disabled is not None:
                service.disabled = disabled
                service.disabled_reason = reason if disabled else None
            if forced_down is not None:
                service.forced_down = forced_down
            self.cloud.saved(service)
            self.emitter.emit(f"{service.binary}:{service.host}", "service.update", "INFO",
                              payloads.service_status(service, self.cloud.last_seen_up(service),
                                                      self.cloud.report_count(service)))

    def _has_done_evacuations(self, host: str) -> bool:
        return any(m.source_compute == host and m.status == "done"
                   for m in self.cloud.migrations)

