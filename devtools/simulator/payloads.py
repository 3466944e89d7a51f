"""Nova's versioned notification payloads, field for field as in Nova's samples."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from simulator.model import POWER_NAMES, Flavor, Image, Server, Service, isotime

Payload = dict[str, Any]


@dataclass(frozen=True)
class Actor:
    """Who asked (Nova's RequestContext, as much of it as notifications carry)."""

    user_id: str
    project_id: str
    request_id: str


def _obj(name: str, version: str, data: dict[str, Any]) -> Payload:
    return {"nova_object.name": name, "nova_object.namespace": "nova",
            "nova_object.version": version, "nova_object.data": data}


def flavor(fl: Flavor) -> Payload:
    """FlavorPayload 1.4."""
    return _obj("FlavorPayload", "1.4", {
        "flavorid": fl.id, "name": fl.name, "root_gb": fl.disk, "vcpus": fl.vcpus,
        "ephemeral_gb": fl.ephemeral, "memory_mb": fl.ram, "disabled": False,
        "rxtx_factor": 1.0, "extra_specs": dict(fl.extra_specs), "projects": None,
        "swap": fl.swap, "is_public": fl.is_public, "vcpu_weight": 0,
        "description": fl.description})


def _ip(server: Server) -> Payload:
    return _obj("IpPayload", "1.0", {
        "mac": server.mac, "address": server.ip, "port_uuid": server.port_id, "meta": {},
        "version": 4, "label": "private", "device_name": f"tap{server.port_id[:11]}"})


def _instance_data(server: Server, actor: Actor, host: str | None = None) -> dict[str, Any]:
    """InstancePayload 1.9 data; ``host`` overrides instance.host (Nova moves it late)."""
    node = host or server.host
    return {
        "architecture": server.image.properties.get("hw_architecture"),
        "availability_zone": "nova", "block_devices": [],
        "created_at": isotime(server.created), "deleted_at": None,
        "display_name": server.name, "display_description": server.name,
        "host": node, "host_name": server.name, "ip_addresses": [_ip(server)],
        "kernel_id": "", "key_name": None,
        "launched_at": isotime(server.launched_at) if server.launched_at else None,
        "image_uuid": server.image.id, "metadata": dict(server.metadata),
        "locked": server.locked, "node": node, "os_type": None, "progress": 0,
        "ramdisk_id": "", "reservation_id": f"r-{server.id[:8]}", "state": server.vm_state,
        "task_state": server.task_state, "power_state": POWER_NAMES[server.power_state],
        "tenant_id": server.project_id, "terminated_at": None, "auto_disk_config": "MANUAL",
        "flavor": flavor(server.flavor), "updated_at": isotime(server.updated),
        "user_id": server.user_id, "uuid": server.id, "request_id": actor.request_id,
        "action_initiator_user": actor.user_id,
        "action_initiator_project": actor.project_id,
        "locked_reason": server.locked_reason, "shares": [],
    }


def instance_action(server: Server, actor: Actor, host: str | None = None,
                    fault: Payload | None = None) -> Payload:
    """InstanceActionPayload 1.9 (evacuate, power_off, power_on)."""
    data = _instance_data(server, actor, host)
    data["fault"] = fault
    return _obj("InstanceActionPayload", "1.9", data)


def instance_rebuild(server: Server, actor: Actor, host: str | None = None,
                     fault: Payload | None = None) -> Payload:
    """InstanceActionRebuildPayload 1.10 (rebuild_scheduled, rebuild.start/end/error)."""
    data = _instance_data(server, actor, host)
    data.update(fault=fault, trusted_image_certificates=None)
    return _obj("InstanceActionRebuildPayload", "1.10", data)


def instance_update(server: Server, actor: Actor, old_state: str,
                    old_task_state: str | None) -> Payload:
    """InstanceUpdatePayload 2.1 (state change)."""
    data = _instance_data(server, actor)
    data.update({
        "audit_period": _obj("AuditPeriodPayload", "1.0", {
            "audit_period_beginning": isotime(server.created),
            "audit_period_ending": isotime()}),
        "old_display_name": None,
        "state_update": _obj("InstanceStateUpdatePayload", "1.0", {
            "old_state": old_state, "state": server.vm_state,
            "old_task_state": old_task_state, "new_task_state": server.task_state}),
        "tags": list(server.tags),
    })
    return _obj("InstanceUpdatePayload", "2.1", data)


def exception(name: str, message: str, function: str, module: str) -> Payload:
    """ExceptionPayload 1.1 (``fault`` and ``reason``)."""
    return _obj("ExceptionPayload", "1.1", {
        "function_name": function, "module_name": module, "exception": name,
        "exception_message": message,
        "traceback": f"Traceback (most recent call last):\n  File \"{module}\", line ...\n"
                     f"{name}: {message}\n"})


def _image_meta(image: Image) -> Payload:
    props = {k: v for k, v in image.properties.items() if k.startswith(("hw_", "os_", "img_"))}
    return _obj("ImageMetaPayload", "1.0", {
        "checksum": None, "container_format": "bare", "created_at": image.created_at,
        "direct_url": None, "disk_format": "qcow2", "id": image.id, "min_disk": 0,
        "min_ram": 0, "name": image.name, "owner": None,
        "properties": _obj("ImageMetaPropsPayload", "1.19", props), "protected": False,
        "size": image.size, "status": "active", "tags": [],
        "updated_at": image.created_at, "virtual_size": None, "visibility": "public"})


def compute_task(server: Server, reason: Payload) -> Payload:
    """ComputeTaskPayload 1.0 (compute_task.rebuild_server.error)."""
    spec = _obj("RequestSpecPayload", "1.1", {
        "availability_zone": None, "flavor": flavor(server.flavor), "ignore_hosts": None,
        "image": _image_meta(server.image), "instance_uuid": server.id, "num_instances": 1,
        "numa_topology": None,
        "pci_requests": _obj("InstancePCIRequestsPayload", "1.0",
                             {"instance_uuid": server.id, "requests": []}),
        "project_id": server.project_id, "scheduler_hints": {},
        "security_groups": ["default"], "force_hosts": None, "force_nodes": None,
        "instance_group": None, "requested_destination": None, "retry": None,
        "user_id": server.user_id})
    return _obj("ComputeTaskPayload", "1.0", {
        "instance_uuid": server.id, "reason": reason, "request_spec": spec,
        "state": "error"})


def service_status(service: Service, last_seen_up: float, report_count: int) -> Payload:
    """ServiceStatusPayload 1.1 (service.update)."""
    return _obj("ServiceStatusPayload", "1.1", {
        "host": service.host, "disabled": service.disabled, "binary": service.binary,
        "topic": service.binary.removeprefix("nova-"),
        "disabled_reason": service.disabled_reason, "forced_down": service.forced_down,
        "version": 66, "availability_zone": None, "uuid": service.uuid,
        "last_seen_up": isotime(last_seen_up), "report_count": report_count})
