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
from tests.waiting import wait_for

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
    def reached() -> cluster.Record | None:
        record = cluster.read_records(PREFIX).get(node)
        return record if record is not None and record.state == state else None

    # the CIB has no change feed we can await from here: poll it, 5 reads a second
    record: cluster.Record = wait_for(reached, timeout, what=f"{node}'s record to be {state}",
                                      interval=0.2)
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
    # The monitor runs meanwhile, configured for another node: it must leave this record
    # to its reporter (it deleted it between the alert's create and mark-sent: a red CI run).
    _write_conf(resource, "rabbit://u:p@127.0.0.1:1/", ["compute-b"])
    run("stonith_admin", "--confirm", "compute-c")
    completed = cluster.fencings("compute-c")["compute-c"].completed
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
    check = subprocess.run(["crm_resource", "--force-check", "-r", "hr"],
                           capture_output=True, text=True, timeout=60, check=False)
    assert check.returncode == 0, check.stdout + check.stderr
    assert cluster.read_records(PREFIX)["compute-c"].state == "sent"



# -- issue 11: stale, unfencing, two reporters, transient errors, evidence ------------------
def _scan_cli(conf: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(CLI), "scan", "--config-file", str(conf)], capture_output=True,
                          text=True, timeout=60, check=False)


def _alert_agent(conf: Path, node: str, task: str = "off") -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, CRM_alert_kind="fencing", CRM_alert_node=node, CRM_alert_rc="0",
               CRM_alert_task=task, CRM_alert_desc=f"Operation {task} of {node}: OK",
               cli=str(CLI), config=str(conf), PATH="/usr/sbin:/usr/bin:/sbin:/bin")
    return subprocess.run(["sh", str(ALERT)], env=env, capture_output=True, text=True,
                          timeout=60, check=False)


@pytest.fixture(scope="module")
def no_monitor(pacemaker) -> None:
    """The HostRecovery primitive stopped, if an earlier test created it: its monitor would
    reconcile these tests' nodes with its own configuration."""
    run("crm_resource", "-r", "hr", "--meta", "-p", "target-role", "-v", "Stopped",
        check=False)
    run("crm_resource", "--wait", "--timeout", "60s", timeout=70)


@pytest.fixture(scope="module")
def fence_device(pacemaker) -> Iterator[None]:
    """fence_dummy for the test nodes: real reboot and unfencing (on) events."""
    run("cibadmin", "--create", "-o", "resources", "--xml-text", """
<primitive id="hr-fence" class="stonith" type="fence_dummy">
  <instance_attributes id="hr-fence-ia">
    <nvpair id="hr-fence-hosts" name="pcmk_host_list" value="compute-f compute-u"/>
  </instance_attributes>
</primitive>""")
    run("crm_resource", "--wait", "--timeout", "60s", timeout=70)
    yield
    run("cibadmin", "--delete", "-o", "resources", "--xml-text", '<primitive id="hr-fence"/>')


def test_pending_record_of_a_node_back_is_never_published(no_monitor, rabbit_url: str,
                                                          tmp_path: Path) -> None:
    _declare(rabbit_url)
    down = _write_conf(tmp_path / "down.conf", "rabbit://u:p@127.0.0.1:1/", ["compute-p"])
    run("attrd_updater", "-p", "-n", "evacuate", "-U", "yes", "-N", "compute-p")
    assert _scan_cli(down).returncode == 1  # broker down: kept pending
    assert cluster.read_records(PREFIX)["compute-p"].state == "pending"
    run("attrd_updater", "-p", "-n", "evacuate", "-D", "-N", "compute-p")
    wait_for(lambda: "compute-p" not in cluster.nodes_with_attribute("evacuate", "yes"),
             timeout=10, what="attribute cleared")
    up = _write_conf(tmp_path / "up.conf", rabbit_url, ["compute-p"])
    assert _scan_cli(up).returncode == 0
    assert _receive(rabbit_url, timeout=3) is None, "a host that came back was reported"
    assert "compute-p" not in cluster.read_records(PREFIX)


def test_fencing_evidence_published_and_unfencing_is_no_incident(
        no_monitor, fence_device, rabbit_url: str, tmp_path: Path) -> None:
    _declare(rabbit_url)
    conf = _write_conf(tmp_path / "f.conf", rabbit_url, ["compute-f", "compute-u"])
    run("stonith_admin", "--unfence", "compute-u")  # storage fencing on boot: not a failure
    run("stonith_admin", "--reboot", "compute-f")
    event = cluster.fencings("compute-f")["compute-f"]
    assert _scan_cli(conf).returncode == 0
    body = _receive(rabbit_url, timeout=10)
    assert body is not None
    got = _parse(body)[1]
    assert got.host == "compute-f" and got.fencing_confirmed
    assert got.fencing_evidence == {
        "kind": "pacemaker_fencing", "target": "compute-f", "action": "reboot",
        "completed_at": host_down.format_time(event.completed), "executioner": "hr-ctl-1",
        "origin": "hr-ctl-1", "by": None, "incident_id": None}
    assert _receive(rabbit_url, timeout=3) is None, "the unfencing made an incident"
    assert "compute-u" not in cluster.read_records(PREFIX)
    run("stonith_admin", "--unfence", "compute-f")  # the node boots again: failure over
    assert _scan_cli(conf).returncode == 0
    assert "compute-f" not in cluster.read_records(PREFIX)
    assert _receive(rabbit_url, timeout=3) is None


def test_scan_and_alert_agent_share_one_incident(no_monitor, rabbit_url: str,
                                                 tmp_path: Path) -> None:
    _declare(rabbit_url)
    conf = _write_conf(tmp_path / "d.conf", rabbit_url, ["compute-d"])
    run("attrd_updater", "-p", "-n", "evacuate", "-U", "yes", "-N", "compute-d")
    assert _scan_cli(conf).returncode == 0  # fence_compute's attribute seen first
    first = _parse(_receive(rabbit_url, timeout=10) or {})[1]
    run("stonith_admin", "--confirm", "compute-d")
    proc = _alert_agent(conf, "compute-d")
    assert proc.returncode == 0, proc.stderr
    second = _parse(_receive(rabbit_url, timeout=10) or {})[1]
    assert second.incident_id == first.incident_id
    assert second.failure_time == first.failure_time
    proof = second.fencing_evidence
    assert proof is not None
    assert (proof["action"], proof["executioner"]) == ("off", "a human")
    assert _scan_cli(conf).returncode == 0
    assert _receive(rabbit_url, timeout=3) is None, "a second incident"
    run("attrd_updater", "-p", "-n", "evacuate", "-D", "-N", "compute-d")


def test_transient_attrd_error_creates_no_new_incident(no_monitor, tmp_path: Path,
                                                       monkeypatch) -> None:
    from agents import scan, service
    conf = service.prepare(["--config-file", str(_write_conf(
        tmp_path / "e.conf", "rabbit://u:p@127.0.0.1:1/", ["compute-e"]))])
    sent: list[str] = []

    def send(conf: Any, host: str, **kw: Any) -> None:
        sent.append(kw["incident_id"])

    run("attrd_updater", "-p", "-n", "evacuate", "-U", "yes", "-N", "compute-e")
    wait_for(lambda: "compute-e" in cluster.nodes_with_attribute("evacuate", "yes"),
             timeout=10, what="attribute set")
    now = dt.datetime.now(dt.UTC)
    scan.scan(conf, send, now=now)
    real_run = subprocess.run

    def attrd_down(args: Any, **kw: Any) -> Any:
        if args[0] == "attrd_updater":  # attrd restarting: the IPC connection is refused
            return subprocess.CompletedProcess(args, 102, "", "attrd_updater: Could not "
                                               "query value: Transport endpoint is not "
                                               "connected")
        return real_run(args, **kw)

    monkeypatch.setattr(cluster.subprocess, "run", attrd_down)
    with contextlib.suppress(cluster.ClusterError):
        scan.scan(conf, send, now=now + dt.timedelta(seconds=10))
    monkeypatch.setattr(cluster.subprocess, "run", real_run)
    scan.scan(conf, send, now=now + dt.timedelta(seconds=20))
    assert len(set(sent)) == 1, f"incidents {sent}"
    assert cluster.read_records(PREFIX)["compute-e"].incident_id == sent[0]
    run("attrd_updater", "-p", "-n", "evacuate", "-D", "-N", "compute-e")
