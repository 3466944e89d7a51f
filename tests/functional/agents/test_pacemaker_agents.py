"""The agents on a real single-node corosync+Pacemaker cluster and a real broker."""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from kombu.connection import Connection
from kombu.entity import Exchange, Queue
from kombu.messaging import Consumer

from agents import cluster
from harness.pacemaker import run
from notifications import host_down
from notifications.publisher import parse_transport_url

pytestmark = pytest.mark.pacemaker

REPO = Path(__file__).resolve().parents[3]
AGENT = REPO / "agents" / "ocf" / "HostRecovery"
ALERT = REPO / "agents" / "ocf" / "host_recovery_alert.sh"
CLI = Path(sys.executable).parent / "host-recovery-notify"
OCF_DIR = Path("/usr/lib/ocf/resource.d/host-recovery")
KEY = "pacemaker-test-key"
PREFIX = "host-recovery-incident-"
QUEUE = "host_recovery.info"


def _write_conf(path: Path, url: str, nodes: list[str], reporter: str = "ctl-1") -> Path:
    path.write_text(f"""[publisher]
transport_url = {url}
total_timeout = 2
connect_timeout = 1
confirm_timeout = 5
backoff_initial = 0.2
[host_down]
signing_key = {KEY}
[oslo_messaging_rabbit]
amqp_durable_queues = true
[agent]
reporter = {reporter}
compute_nodes = {",".join(nodes)}
node_host_map = compute-a:compute-a.example.org
""")
    return path


def _queue() -> Queue:
    exchange = Exchange("openstack", type="topic", durable=True)
    return Queue(QUEUE, exchange, routing_key=QUEUE, durable=True)


def _declare(url: str) -> None:
    """Declare the listeners' queue as a pool-less oslo listener does (durable, no args)."""
    with Connection(parse_transport_url(url)[0]) as conn:
        _queue()(conn.default_channel).declare()


def _receive(url: str, timeout: float) -> dict[str, Any] | None:
    """The next message body from the listeners' queue, or None after ``timeout``."""
    got: list[dict[str, Any]] = []
    with Connection(parse_transport_url(url)[0]) as conn:
        def on_message(body: dict[str, Any], message: Any) -> None:
            got.append(body)
            message.ack()
        deadline = time.monotonic() + timeout
        with Consumer(conn, [_queue()], callbacks=[on_message], prefetch_count=1):
            # drain_events returns on any frame, not only a delivery: wait until one came.
            while not got and (left := deadline - time.monotonic()) > 0:
                with contextlib.suppress(TimeoutError):
                    conn.drain_events(timeout=left)
    return got[0] if got else None


def _wait_state(node: str, state: str, timeout: float = 30.0) -> cluster.Record:
    """The node's CIB record once it reaches ``state`` (the CLI marks it after the confirm)."""
    deadline = time.monotonic() + timeout
    while (record := cluster.read_records(PREFIX).get(node)) is None or record.state != state:
        assert time.monotonic() < deadline, f"{node}: {record} never became {state}"
        time.sleep(0.2)  # the CIB has no change feed we can await from here
    return record


def _parse(body: dict[str, Any]) -> tuple[dict[str, Any], host_down.HostDown]:
    assert body["oslo.version"] == "2.0"
    message = json.loads(body["oslo.message"])
    event = host_down.parse_host_down(message["payload"], signing_key=KEY,
                                      allow_unsigned=False, replay_window=900, clock_skew=60)
    return message, event


@pytest.fixture(scope="module")
def resource(pacemaker, tmp_path_factory) -> Iterator[Path]:
    """The HostRecovery primitive, monitored every 2 s; yields its config file path."""
    workdir = tmp_path_factory.mktemp("hr-resource")
    conf = _write_conf(workdir / "agent.conf", "rabbit://u:p@127.0.0.1:1/", [])
    OCF_DIR.mkdir(parents=True, exist_ok=True)
    shutil.copy2(AGENT, OCF_DIR / "HostRecovery")
    run("cibadmin", "--create", "-o", "resources", "--xml-text", f"""
<primitive id="hr" class="ocf" provider="host-recovery" type="HostRecovery">
  <instance_attributes id="hr-params">
    <nvpair id="hr-cli" name="cli" value="{CLI}"/>
    <nvpair id="hr-config" name="config" value="{conf}"/>
    <nvpair id="hr-state" name="state_file" value="{workdir}/hr.state"/>
  </instance_attributes>
  <operations>
    <op id="hr-monitor" name="monitor" interval="2s" timeout="30s"/>
  </operations>
</primitive>""")
    run("crm_resource", "--wait", "--timeout", "60s", timeout=70)
    yield conf
    # Stop and remove the resource while its agent is still installed (else stop fails).
    run("crm_resource", "-r", "hr", "--meta", "-p", "target-role", "-v", "Stopped")
    run("crm_resource", "--wait", "--timeout", "60s", timeout=70)
    run("cibadmin", "--delete", "-o", "resources", "--xml-text", '<primitive id="hr"/>')
    shutil.rmtree(OCF_DIR, ignore_errors=True)


def _diagnose() -> str:
    check = run("crm_resource", "--force-check", "-r", "hr", "-V", check=False, timeout=60)
    return f"records={cluster.read_records(PREFIX)} force-check={check[-2000:]}"


def test_ocf_tester_passes_as_root(tmp_path) -> None:
    assert os.geteuid() == 0, "ocf-tester must run as root"
    conf = _write_conf(tmp_path / "t.conf", "rabbit://u:p@127.0.0.1:1/", ["nobody-node"])
    proc = subprocess.run(["ocf-tester", "-n", "hr-test", "-o", f"cli={CLI}",
                           "-o", f"config={conf}", "-o", f"state_file={tmp_path}/s.state",
                           str(AGENT)], capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "passed all tests" in proc.stdout


def test_marked_node_is_published_by_the_monitor(resource: Path, rabbit_url: str,
                                                 rabbit) -> None:
    _write_conf(resource, rabbit_url, ["compute-a"])
    _declare(rabbit_url)
    run("attrd_updater", "-p", "-n", "evacuate", "-U", "yes", "-N", "compute-a")
    body = _receive(rabbit_url, timeout=60)
    assert body is not None, (
        f"the monitor published nothing within 60 s: {_diagnose()} "
        f"depth={rabbit.queue_depth(rabbit_url.rsplit('/', 1)[1], QUEUE)}")
    message, event = _parse(body)
    assert message["event_type"] == "host_recovery.host.down"
    assert message["priority"] == "INFO"
    assert message["publisher_id"] == "host-recovery.ocf.ctl-1"
    assert event.host == "compute-a.example.org"  # node_host_map applied
    assert (event.source, event.reporter, event.fencing_confirmed) == ("ocf", "ocf@ctl-1",
                                                                       False)
    record = _wait_state("compute-a", "sent")
    assert record.event_key.startswith("attr@")
    assert event.incident_id == host_down.incident_id_for("compute-a.example.org",
                                                          record.event_key)
    assert _receive(rabbit_url, timeout=5) is None, "published twice"


def test_broker_down_keeps_incident_pending_across_restart(resource: Path,
                                                           own_rabbit) -> None:
    url = own_rabbit.url("/")
    _declare(url)
    own_rabbit.stop()
    _write_conf(resource, url, ["compute-b"])
    run("attrd_updater", "-p", "-n", "evacuate", "-U", "yes", "-N", "compute-b")
    check = subprocess.run(["crm_resource", "--force-check", "-r", "hr"],
                           capture_output=True, text=True, timeout=60, check=False)
    assert check.returncode == 0, check.stdout + check.stderr
    record = cluster.read_records(PREFIX)["compute-b"]
    assert record.state == "pending"
    run("crm_resource", "--restart", "-r", "hr", "--timeout", "60s", timeout=90)
    assert cluster.read_records(PREFIX)["compute-b"] == record  # not lost, not re-keyed
    own_rabbit.start()
    body = _receive(url, timeout=60)
    assert body is not None, "nothing published after the broker came back"
    assert _parse(body)[1].incident_id == record.incident_id
    assert _receive(url, timeout=6) is None, "published more than once"
    assert _wait_state("compute-b", "sent").incident_id == record.incident_id


def test_alert_agent_on_two_controllers_yields_one_incident(resource: Path, rabbit_url: str,
                                                            tmp_path: Path) -> None:
    _declare(rabbit_url)
    run("stonith_admin", "--confirm", "compute-c")
    completed = cluster.fencings("compute-c")["compute-c"]
    incidents = []
    for n, controller in enumerate(["ctl-1", "ctl-2"]):
        conf = _write_conf(tmp_path / f"{controller}.conf", rabbit_url, [], controller)
        stamp = (dt.datetime.now() + dt.timedelta(milliseconds=137 * n)).strftime(
            "%H:%M:%S.%f")
        env = dict(os.environ, CRM_alert_kind="fencing", CRM_alert_node="compute-c",
                   CRM_alert_rc="0", CRM_alert_task="off", CRM_alert_status="0",
                   CRM_alert_desc=f"Operation off of compute-c by {controller}: OK",
                   CRM_alert_timestamp=stamp, CRM_alert_recipient=f"/var/log/{controller}",
                   CRM_alert_node_sequence=str(10 + n), CRM_alert_version="2.1.5",
                   cli=str(CLI), config=str(conf), PATH="/usr/sbin:/usr/bin:/sbin:/bin")
        proc = subprocess.run(["sh", str(ALERT)], env=env, capture_output=True, text=True,
                              timeout=60, check=False)
        assert proc.returncode == 0, proc.stderr
        body = _receive(rabbit_url, timeout=30)
        assert body is not None
        _message, event = _parse(body)
        assert (event.fencing_confirmed, event.reporter) == (True, f"alert@{controller}")
        incidents.append(event.incident_id)
    assert incidents[0] == incidents[1] == host_down.incident_id_for(
        "compute-c", f"fenced@{int(completed.timestamp())}")
