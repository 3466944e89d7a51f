"""The monitor's scan on a fake cluster: one incident per failure, pending until confirmed."""

import datetime as dt

import pytest
from oslo_config import cfg

from agents import conf as agents_conf
from agents import scan
from agents.cluster import ClusterError, FenceEvent, Record
from notifications import conf as hd_conf
from notifications.host_down import incident_id_for

NOW = dt.datetime(2025, 5, 1, 12, 0, tzinfo=dt.UTC)
PREFIX = "host-recovery-incident-"


class FakeCluster:
    def __init__(self):
        self.fenced: dict[str, dt.datetime] = {}
        self.marked: set[str] = set()
        self.records: dict[str, Record] = {}
        self.attrd_error = False

    def fencings(self, target="*"):
        return {n: FenceEvent(n, "reboot", when, "ctl-2", "ctl-1")
                for n, when in self.fenced.items() if target in ("*", n)}

    def nodes_with_attribute(self, name, value):
        assert (name, value) == ("evacuate", "yes")
        if self.attrd_error:
            raise ClusterError("attrd_updater failed (102): Transport endpoint")
        return set(self.marked)

    def read_records(self, prefix):
        return dict(self.records)

    def create_record(self, prefix, record):
        if record.node in self.records:
            return False
        self.records[record.node] = record
        return True

    def update_record(self, prefix, record):
        if record.node not in self.records:
            return False
        self.records[record.node] = record
        return True

    def delete_record(self, prefix, node):
        self.records.pop(node, None)


class Sender:
    def __init__(self):
        self.calls = []
        self.fail = False

    def __call__(self, conf, host, **kwargs):
        if self.fail:
            raise RuntimeError("broker down")
        self.calls.append((host, kwargs))


@pytest.fixture
def conf():
    c = cfg.ConfigOpts()
    hd_conf.register_opts(c)
    agents_conf.register_opts(c)
    c([])
    c.set_override("node_host_map", {"n1": "compute-1.example"}, "agent")
    return c


def test_marked_node_is_sent_once_with_mapped_host(conf):
    cluster, send = FakeCluster(), Sender()
    cluster.marked.add("n1")
    result = scan.scan(conf, send, cluster, now=NOW)
    key = f"attr@{int(NOW.timestamp())}"
    assert result.sent == [incident_id_for("compute-1.example", key)]
    assert send.calls[0][0] == "compute-1.example"
    assert send.calls[0][1]["fencing_confirmed"] is False
    assert cluster.records["n1"].state == "sent"
    later = NOW + dt.timedelta(seconds=30)
    assert scan.scan(conf, send, cluster, now=later).sent == []  # no duplicate
    assert len(send.calls) == 1


def test_failed_publish_stays_pending_and_keeps_its_key(conf):
    cluster, send = FakeCluster(), Sender()
    cluster.marked.add("n2")
    send.fail = True
    result = scan.scan(conf, send, cluster, now=NOW)
    assert len(result.failed) == 1
    pending = cluster.records["n2"]
    assert pending.state == "pending"
    send.fail = False
    # a later monitor (or another controller after failover) reuses the stored key
    result = scan.scan(conf, send, cluster, now=NOW + dt.timedelta(minutes=5))
    assert result.sent == [pending.incident_id]
    assert cluster.records["n2"].state == "sent"


def test_fencing_gives_the_shared_event_key_and_a_newer_fencing_a_new_incident(conf):
    cluster, send = FakeCluster(), Sender()
    cluster.fenced["n3"] = NOW - dt.timedelta(seconds=10)
    first = scan.scan(conf, send, cluster, now=NOW).sent
    epoch = int((NOW - dt.timedelta(seconds=10)).timestamp())
    assert first == [incident_id_for("n3", f"fenced@{epoch}")]
    assert send.calls[0][1]["fencing_confirmed"] is True
    proof = send.calls[0][1]["fencing_evidence"]
    assert (proof["kind"], proof["target"], proof["action"]) == ("pacemaker_fencing", "n3",
                                                                  "reboot")
    assert (proof["executioner"], proof["origin"]) == ("ctl-2", "ctl-1")
    assert proof["completed_at"] == "2025-05-01T11:59:50.000Z"
    cluster.fenced["n3"] = NOW + dt.timedelta(seconds=100)
    second = scan.scan(conf, send, cluster, now=NOW + dt.timedelta(seconds=110)).sent
    assert second and second != first


def test_old_fencing_is_ignored_and_ended_incident_is_forgotten(conf):
    cluster, send = FakeCluster(), Sender()
    cluster.fenced["n4"] = NOW - dt.timedelta(hours=2)
    assert scan.scan(conf, send, cluster, now=NOW).sent == []
    cluster.marked.add("n5")
    scan.scan(conf, send, cluster, now=NOW)
    cluster.marked.clear()
    scan.scan(conf, send, cluster, now=NOW)
    assert "n5" not in cluster.records  # attribute cleared: next failure is a new incident


def test_compute_nodes_limits_what_is_reported(conf):
    conf.set_override("compute_nodes", ["n6"], "agent")
    cluster, send = FakeCluster(), Sender()
    cluster.marked.update({"n6", "controller-1"})
    scan.scan(conf, send, cluster, now=NOW)
    assert [c[0] for c in send.calls] == ["n6"]


def test_a_record_outside_compute_nodes_is_left_to_its_reporter(conf):
    # The CI failure: a monitor for other nodes deleted the alert agent's record between its
    # create and its mark-sent, and the alert failed.
    conf.set_override("compute_nodes", ["n6"], "agent")
    cluster, send = FakeCluster(), Sender()
    cluster.fenced["n9"] = NOW
    theirs = Record("n9", "pending", f"fenced@{int(NOW.timestamp())}", "inc-9")
    cluster.records["n9"] = theirs
    scan.scan(conf, send, cluster, now=NOW)
    assert cluster.records["n9"] == theirs and send.calls == []


def test_a_record_removed_after_the_publish_is_not_an_error(conf):
    cluster = FakeCluster()
    cluster.fenced["n10"] = NOW
    send_and_forget = Sender()

    def send_then_removed(conf, host, **kwargs):
        send_and_forget(conf, host, **kwargs)
        cluster.records.pop("n10")

    assert scan.alert(conf, send_then_removed, "n10", cluster) is not None
    assert len(send_and_forget.calls) == 1 and "n10" not in cluster.records


def test_pending_record_of_a_node_back_is_dropped_not_published(conf):
    cluster, send = FakeCluster(), Sender()
    cluster.marked.add("n7")
    send.fail = True
    scan.scan(conf, send, cluster, now=NOW)
    assert cluster.records["n7"].state == "pending"
    cluster.marked.clear()  # the node came back before the broker did
    send.fail = False
    assert scan.scan(conf, send, cluster, now=NOW + dt.timedelta(minutes=1)).sent == []
    assert send.calls == [] and "n7" not in cluster.records


def test_attrd_error_fails_the_scan_and_keeps_the_incident(conf):
    cluster, send = FakeCluster(), Sender()
    cluster.marked.add("n8")
    first = scan.scan(conf, send, cluster, now=NOW).sent
    cluster.attrd_error = True
    with pytest.raises(ClusterError):
        scan.scan(conf, send, cluster, now=NOW + dt.timedelta(seconds=10))
    assert cluster.records["n8"].incident_id == first[0]
    cluster.attrd_error = False
    assert scan.scan(conf, send, cluster, now=NOW + dt.timedelta(seconds=20)).sent == []
    assert len(send.calls) == 1


def test_alert_reuses_the_record_the_scan_created(conf):
    cluster, send = FakeCluster(), Sender()
    cluster.marked.add("n1")
    first = scan.scan(conf, send, cluster, now=NOW).sent
    cluster.fenced["n1"] = NOW + dt.timedelta(seconds=5)
    assert scan.alert(conf, send, "n1", cluster) == first[0]
    again = send.calls[1][1]
    assert again["incident_id"] == first[0] and again["source"] == "alert"
    assert again["fencing_evidence"]["target"] == "compute-1.example"
    assert again["failure_time"] == NOW
    # and the scan, seeing the fencing now, keeps the same incident
    assert scan.scan(conf, send, cluster, now=NOW + dt.timedelta(seconds=20)).sent == []


def test_scan_reuses_the_record_the_alert_created(conf):
    cluster, send = FakeCluster(), Sender()
    cluster.fenced["n9"] = NOW - dt.timedelta(seconds=1)
    incident = scan.alert(conf, send, "n9", cluster)
    cluster.records["n9"] = Record("n9", "pending", cluster.records["n9"].event_key, incident)
    assert scan.scan(conf, send, cluster, now=NOW).sent == [incident]


def test_alert_without_an_off_or_reboot_sends_nothing(conf):
    cluster, send = FakeCluster(), Sender()
    assert scan.alert(conf, send, "n1", cluster) is None
    assert send.calls == []
