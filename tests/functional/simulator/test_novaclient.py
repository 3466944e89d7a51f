"""Real clients against the real simulator process: keystoneauth1 password session (endpoint
from the catalog) + python-novaclient list, force down and evacuate."""

from __future__ import annotations

import pytest
from keystoneauth1 import exceptions as ks_exc
from keystoneauth1 import session
from keystoneauth1.identity import v3
from novaclient import client as nova_client
from novaclient import exceptions as nova_exc

from tests.waiting import wait_for

pytestmark = pytest.mark.rabbit


def _settled(nova, server_id):
    server = nova.servers.get(server_id)
    return server if getattr(server, "OS-EXT-STS:task_state") is None else None


def _nova(simulator_process, version="2.53"):
    return nova_client.Client(version, session=simulator_process.keystone_session(),
                              region_name="RegionOne", endpoint_type="internal")


def test_list_force_down_and_evacuate_with_novaclient(simulator_process):
    nova = _nova(simulator_process)
    servers = nova.servers.list(search_opts={"host": "compute1", "all_tenants": 1})
    assert len(servers) == 5
    assert {getattr(s, "OS-EXT-SRV-ATTR:host") for s in servers} == {"compute1"}
    own_only = nova.servers.list(search_opts={"host": "compute1"})
    assert len(own_only) < len(servers)  # all_tenants matters

    simulator_process.control.fail_host("compute1")  # not yet down: service_down_time 60 s
    victim = next(s for s in servers if s.status in ("ACTIVE", "SHUTOFF")
                  and getattr(s, "OS-EXT-STS:task_state") is None)
    with pytest.raises(nova_exc.BadRequest, match="still in use"):
        nova.servers.evacuate(victim)

    (service,) = nova.services.list(host="compute1", binary="nova-compute")
    assert service.state == "up"
    forced = nova.services.force_down(service.id, True)
    assert forced.forced_down is True and forced.state == "down"

    nova.servers.evacuate(victim)
    moved = wait_for(lambda: _settled(nova, victim.id), 20, "evacuation")
    assert getattr(moved, "OS-EXT-SRV-ATTR:host") not in ("compute1", None)
    migrations = nova.migrations.list(instance_uuid=victim.id)
    assert [m.status for m in migrations] == ["done"]
    log = simulator_process.control.requests()["summary"]
    assert log["by_call"]["POST identity"] >= 1
    assert log["by_call"]["POST compute"] >= 2


def test_microversion_295_and_pagination_with_novaclient(simulator_process):
    nova = _nova(simulator_process, "2.95")
    everything = nova.servers.list(search_opts={"all_tenants": 1}, limit=-1)
    paged = nova.servers.list(search_opts={"all_tenants": 1}, limit=-1, marker=None)
    assert len(everything) == len(paged) == 20
    simulator_process.control.fail_host("compute2", immediate=True)
    victim = next(s for s in nova.servers.list(search_opts={"host": "compute2",
                                                            "all_tenants": 1})
                  if s.status == "ACTIVE")
    nova.servers.evacuate(victim)
    moved = wait_for(lambda: _settled(nova, victim.id), 20, "evacuation")
    assert moved.status == "SHUTOFF"  # >= 2.95: evacuated VMs end stopped


def test_expired_token_is_renewed_by_keystoneauth(simulator_process):
    nova = _nova(simulator_process)
    assert nova.services.list(binary="nova-compute")
    simulator_process.control.revoke_tokens()
    assert len(nova.services.list(binary="nova-compute")) == 4  # re-authenticated on 401


def test_wrong_password_is_refused(simulator_process):
    creds = dict(simulator_process.credentials(), password="wrong")
    sess = session.Session(auth=v3.Password(**creds))
    with pytest.raises(ks_exc.Unauthorized):
        nova_client.Client("2.53", session=sess).servers.list()
