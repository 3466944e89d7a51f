"""JSON views of Nova objects, shaped per microversion as Nova's view builders do."""

from __future__ import annotations

import hashlib
from typing import Any

from simulator import states
from simulator.api.wsgi import Call
from simulator.cloud import Cloud
from simulator.model import (
    Aggregate,
    Flavor,
    Migration,
    Server,
    ServerGroup,
    Service,
    db_time,
    isotime,
)


def status(server: Server) -> str:
    """Nova's ``status`` from vm_state and task_state."""
    return states.status(server.vm_state, server.task_state)


def _links(call: Call, kind: str, ident: str) -> list[dict[str, str]]:
    root = call.base_url.rsplit("/", 1)[0]
    return [{"rel": "self", "href": f"{call.base_url}/{kind}/{ident}"},
            {"rel": "bookmark", "href": f"{root}/{kind}/{ident}"}]


def server_brief(call: Call, server: Server) -> dict[str, Any]:
    """An entry of GET /servers."""
    return {"id": server.id, "name": server.name, "links": _links(call, "servers", server.id)}


def _flavor_ref(call: Call, flavor: Flavor) -> dict[str, Any]:
    if call.at_least(2, 47):
        return {"vcpus": flavor.vcpus, "ram": flavor.ram, "disk": flavor.disk,
                "ephemeral": flavor.ephemeral, "swap": flavor.swap,
                "original_name": flavor.name, "extra_specs": dict(flavor.extra_specs)}
    return {"id": flavor.id, "links": _links(call, "flavors", flavor.id)[1:]}


def server_detail(call: Call, cloud: Cloud, server: Server) -> dict[str, Any]:
    """GET /servers/{id} and entries of /servers/detail, admin fields included."""
    image: dict[str, Any] = {"id": server.image.id,
                             "links": _links(call, "images", server.image.id)[1:]}
    if call.at_least(2, 98):
        image["properties"] = dict(server.image.properties)
    host_id = hashlib.sha224((server.project_id + server.host).encode()).hexdigest()
    view: dict[str, Any] = {
        "id": server.id, "name": server.name, "status": status(server),
        "tenant_id": server.project_id, "user_id": server.user_id,
        "metadata": dict(server.metadata), "hostId": host_id, "image": image,
        "flavor": _flavor_ref(call, server.flavor), "created": isotime(server.created),
        "updated": isotime(server.updated),
        "addresses": {"private": [{"version": 4, "addr": server.ip,
                                   "OS-EXT-IPS:type": "fixed",
                                   "OS-EXT-IPS-MAC:mac_addr": server.mac}]},
        "accessIPv4": "", "accessIPv6": "", "links": _links(call, "servers", server.id),
        "OS-DCF:diskConfig": "MANUAL", "progress": 0,
        "OS-EXT-AZ:availability_zone": cloud.zone_of(server.host),
        "config_drive": "", "key_name": None,
        "OS-SRV-USG:launched_at": isotime(server.launched_at) if server.launched_at else None,
        "OS-SRV-USG:terminated_at": None, "security_groups": [{"name": "default"}],
        "os-extended-volumes:volumes_attached": [],
        "OS-EXT-SRV-ATTR:host": server.host,
        "OS-EXT-SRV-ATTR:instance_name": f"instance-{server.seq:08x}",
        "OS-EXT-SRV-ATTR:hypervisor_hostname": server.host,
        "OS-EXT-STS:task_state": server.task_state, "OS-EXT-STS:vm_state": server.vm_state,
        "OS-EXT-STS:power_state": server.power_state,
    }
    if server.fault is not None and server.vm_state == "error":
        view["fault"] = dict(server.fault)
    if call.at_least(2, 3):
        view.update({"OS-EXT-SRV-ATTR:reservation_id": f"r-{server.id[:8]}",
                     "OS-EXT-SRV-ATTR:launch_index": 0,
                     "OS-EXT-SRV-ATTR:hostname": server.name,
                     "OS-EXT-SRV-ATTR:kernel_id": "", "OS-EXT-SRV-ATTR:ramdisk_id": "",
                     "OS-EXT-SRV-ATTR:root_device_name": "/dev/vda",
                     "OS-EXT-SRV-ATTR:user_data": None})
    if call.at_least(2, 9):
        view["locked"] = server.locked
    if call.at_least(2, 16):
        view["host_status"] = cloud.host_status(server.host)
    if call.at_least(2, 19):
        view["description"] = None
    if call.at_least(2, 26):
        view["tags"] = list(server.tags)
    if call.at_least(2, 63):
        view["trusted_image_certificates"] = None
    if call.at_least(2, 73):
        view["locked_reason"] = server.locked_reason
    if call.at_least(2, 96):
        view["pinned_availability_zone"] = server.availability_zone
    if call.at_least(2, 100):
        view["scheduler_hints"] = {"group": server.server_group} if server.server_group else {}
    return view


def service(call: Call, cloud: Cloud, svc: Service) -> dict[str, Any]:
    """An os-services entry (uuid ids from 2.53, forced_down from 2.11)."""
    view: dict[str, Any] = {
        "id": svc.uuid if call.at_least(2, 53) else svc.id, "binary": svc.binary,
        "disabled_reason": svc.disabled_reason, "host": svc.host,
        "state": "up" if cloud.service_is_up(svc) else "down",
        "status": "disabled" if svc.disabled else "enabled",
        "updated_at": db_time(cloud.updated_at(svc)),
        "zone": cloud.zone_of(svc.host) if svc.binary == "nova-compute" else svc.zone}
    if call.at_least(2, 11):
        view["forced_down"] = svc.forced_down
    return view


def flavor(call: Call, fl: Flavor, detail: bool = True) -> dict[str, Any]:
    """A flavor (extra_specs embedded from 2.61)."""
    view: dict[str, Any] = {"id": fl.id, "name": fl.name, "links": _links(call, "flavors",
                                                                         fl.id)}
    if call.at_least(2, 55):
        view["description"] = fl.description
    if not detail:
        return view
    view.update({"vcpus": fl.vcpus, "ram": fl.ram, "disk": fl.disk, "swap": "",
                 "OS-FLV-EXT-DATA:ephemeral": fl.ephemeral, "rxtx_factor": 1.0,
                 "OS-FLV-DISABLED:disabled": False, "os-flavor-access:is_public": fl.is_public})
    if call.at_least(2, 61):
        view["extra_specs"] = dict(fl.extra_specs)
    return view


def aggregate(call: Call, agg: Aggregate) -> dict[str, Any]:
    """An os-aggregates entry."""
    view: dict[str, Any] = {
        "id": agg.id, "name": agg.name, "availability_zone": agg.availability_zone,
        "hosts": list(agg.hosts), "metadata": dict(agg.metadata),
        "created_at": agg.created_at, "updated_at": None, "deleted": False,
        "deleted_at": None}
    if call.at_least(2, 41):
        view["uuid"] = agg.uuid
    return view


def server_group(call: Call, group: ServerGroup) -> dict[str, Any]:
    """An os-server-groups entry (policy/rules from 2.64, policies/metadata before)."""
    view: dict[str, Any] = {"id": group.id, "name": group.name,
                            "members": list(group.members)}
    if call.at_least(2, 64):
        view.update(policy=group.policy, rules={})
    else:
        view.update(policies=[group.policy], metadata={})
    if call.at_least(2, 13):
        view.update(project_id=group.project_id, user_id=group.user_id)
    return view


def migration(call: Call, mig: Migration) -> dict[str, Any]:
    """An os-migrations entry."""
    view: dict[str, Any] = {
        "id": mig.id, "instance_uuid": mig.instance_uuid, "status": mig.status,
        "source_compute": mig.source_compute, "source_node": mig.source_compute,
        "dest_compute": mig.dest_compute, "dest_node": mig.dest_compute, "dest_host": None,
        "created_at": mig.created_at, "updated_at": mig.updated_at,
        "old_instance_type_id": None, "new_instance_type_id": None}
    if call.at_least(2, 23):
        view["migration_type"] = mig.migration_type
    if call.at_least(2, 59):
        view["uuid"] = mig.uuid
    if call.at_least(2, 80):
        view.update(project_id=mig.project_id, user_id=mig.user_id)
    return view
