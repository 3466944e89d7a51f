"""host-recovery-notify exits 0 only when confirmed, non-zero with a clear message."""

from agents import service
from agents.cmd import notify
from notifications.publisher import PublishError


def test_exit_0_only_when_confirmed(monkeypatch, tmp_path, capsys):
    conf_file = tmp_path / "c.conf"
    conf_file.write_text("[publisher]\ntransport_url = rabbit://u:p@h:5672/\n")
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
    conf_file.write_text("[publisher]\ntransport_url = rabbit://u:p@h:5672/\n")

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
                         "total_timeout = 0\nconnect_timeout = 0.2\n")
    assert notify.main(["--host", "compute-1", "--config-file", str(conf_file)]) == 1
    captured = capsys.readouterr()
    assert "s3cret" not in captured.err + captured.out
