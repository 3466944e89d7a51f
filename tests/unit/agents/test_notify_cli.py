"""host-recovery-notify exits 0 only when confirmed, non-zero with a clear message."""

from agents import service
from agents.cmd import notify
from notifications.publisher import PublishError


def test_exit_0_only_when_confirmed(monkeypatch, tmp_path, capsys):
    conf_file = tmp_path / "c.conf"
    conf_file.write_text("[publisher]\ntransport_url = rabbit://u:p@h:5672/\n"
                         "[host_down]\nsigning_key = k\n")
    sent = []
    monkeypatch.setattr(service, "send_host_down",
                        lambda conf, host, **kw: sent.append((host, kw)))
    assert notify.main(["--host", "compute-1", "--on-shared-storage", "--fencing-confirmed",
                        "--incident-id", "inc-1", "--config-file", str(conf_file)]) == 0
    assert sent[0][0] == "compute-1"
    assert sent[0][1]["incident_id"] == "inc-1"
    assert sent[0][1]["on_shared_storage"] is True
    assert "confirmed" in capsys.readouterr().out


def test_unconfirmed_exits_1_with_the_reason(monkeypatch, tmp_path, capsys):
    conf_file = tmp_path / "c.conf"
    conf_file.write_text("[publisher]\ntransport_url = rabbit://u:p@h:5672/\n"
                         "[host_down]\nsigning_key = k\n")

    def fail(conf, host, **kw):
        raise PublishError("amqp://***@h:5672/%2F: connection refused")

    monkeypatch.setattr(service, "send_host_down", fail)
    assert notify.main(["--host", "compute-1", "--config-file", str(conf_file)]) == 1
    err = capsys.readouterr().err
    assert "notify failed: PublishError" in err
    assert "connection refused" in err


def test_broker_url_password_is_not_printed(tmp_path, capsys):
    conf_file = tmp_path / "c.conf"
    conf_file.write_text("[publisher]\ntransport_url = rabbit://u:s3cret@127.0.0.1:1/\n"
                         "total_timeout = 0\nconnect_timeout = 0.2\n"
                         "[host_down]\nsigning_key = k\n")
    assert notify.main(["--host", "compute-1", "--config-file", str(conf_file)]) == 1
    captured = capsys.readouterr()
    assert "s3cret" not in captured.err + captured.out


def _conf(tmp_path):
    conf_file = tmp_path / "c.conf"
    conf_file.write_text("[publisher]\ntransport_url = rabbit://u:p@h:5672/\n"
                         "[host_down]\nsigning_key = k\n"
                         "[agent]\nscan_error_threshold = 2\n")
    return str(conf_file)


def test_evidence_only_when_given_explicitly(monkeypatch, tmp_path, capsys):
    sent = []
    monkeypatch.setattr(service, "send_host_down",
                        lambda conf, host, **kw: sent.append(kw))
    conf = _conf(tmp_path)
    assert notify.main(["--host", "c-1", "--config-file", conf]) == 0
    assert sent[-1]["fencing_evidence"] is None
    assert sent[-1]["fencing_confirmed"] is False
    assert notify.main(["--host", "c-1", "--fencing-confirmed", "--config-file", conf]) == 0
    assert sent[-1]["fencing_evidence"] is None
    assert "no fencing evidence" in capsys.readouterr().err
    assert notify.main(["--host", "c-1", "--fenced-by", "alice", "--fenced-at",
                        "2025-01-15T10:30:00Z", "--config-file", conf]) == 0
    proof = sent[-1]["fencing_evidence"]
    assert (proof["kind"], proof["by"], proof["target"]) == ("operator", "alice", "c-1")
    assert proof["completed_at"] == "2025-01-15T10:30:00.000Z"
    assert sent[-1]["fencing_confirmed"] is True
    assert sent[-1]["failure_time"] <= notify.dt.datetime(2025, 1, 15, 10, 30,
                                                          tzinfo=notify.dt.UTC)
    assert notify.main(["--host", "c-1", "--fenced-by", "ctl-2", "--fence-action", "off",
                        "--config-file", conf]) == 0
    proof = sent[-1]["fencing_evidence"]
    assert (proof["kind"], proof["action"], proof["executioner"]) == (
        "pacemaker_fencing", "off", "ctl-2")


def test_scan_fails_only_after_the_threshold_of_read_errors(monkeypatch, tmp_path, capsys):
    from agents import scan
    from agents.cluster import ClusterError

    def broken(conf, send):
        raise ClusterError("attrd_updater failed (102): not connected")

    monkeypatch.setattr(scan, "scan", broken)
    args = ["scan", "--error-file", str(tmp_path / "e"), "--config-file", _conf(tmp_path)]
    assert notify.main(args) == 1  # first error: monitor still succeeds
    assert notify.main(args) == 2  # second in a row: the monitor fails
    assert "2 of 2 errors in a row" in capsys.readouterr().err
    monkeypatch.setattr(scan, "scan", lambda conf, send: scan.ScanResult([], []))
    assert notify.main(args) == 0
    monkeypatch.setattr(scan, "scan", broken)
    assert notify.main(args) == 1  # counting starts again
