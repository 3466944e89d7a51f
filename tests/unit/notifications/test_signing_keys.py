"""Key ids and rotation: several accepted keys, v1 payloads, refusing to run without a key."""

import datetime as dt

import pytest
from oslo_config import cfg

from agents import service as agent_service
from agents.cmd import notify
from listener import service as listener_service
from listener.cmd import listener as listener_cmd
from notifications import conf as hd_conf
from notifications import host_down as hd
from notifications import signing

T0 = dt.datetime(2025, 3, 1, 12, 0, 0, tzinfo=dt.UTC)
SECRET = "s3cret-old"


def _conf(**opts):
    conf = cfg.ConfigOpts()
    hd_conf.register_opts(conf)
    conf([])
    for name, value in opts.items():
        conf.set_override(name, value, group="host_down")
    return conf


def _build(**kw):
    kw.setdefault("sent_at", T0)
    return hd.build_payload("compute-1", incident_id="inc-1", failure_time=T0,
                            reporter="ocf@ctl-1", fencing_confirmed=True, source="ocf", **kw)


def _parse(payload, conf):
    return hd.parse_with_conf(payload, conf, now=T0)


def _reason(payload, conf):
    with pytest.raises(hd.InvalidHostDown) as info:
        _parse(payload, conf)
    return info.value


def test_key_id_is_signed_and_picks_the_key():
    conf = _conf(signing_keys=["old:" + SECRET, "new:s3cret-new"])
    new = _build(signing_key="s3cret-new", key_id="new")
    assert new["key_id"] == "new"
    assert _parse(new, conf).host == "compute-1"
    tampered = dict(new, key_id="old")  # the id is covered by the signature
    assert _reason(tampered, conf).reason == "forged"


def test_rotation_old_and_new_accepted_then_old_removed():
    old = _build(signing_key=SECRET, key_id="old")
    new = _build(signing_key="s3cret-new", key_id="new")
    both = _conf(signing_keys=["old:" + SECRET, "new:s3cret-new"])
    assert _parse(old, both) and _parse(new, both)
    only_new = _conf(signing_keys=["new:s3cret-new"])
    error = _reason(old, only_new)
    assert (error.reason, error.unjudged) == ("unknown_key", True)
    assert "'old'" in error.detail and SECRET not in str(error)


def test_v1_payload_without_key_id_verifies_with_the_default_key():
    v1 = _build(signing_key=SECRET)
    assert "key_id" not in v1
    conf = _conf(signing_key=SECRET, signing_keys=["new:s3cret-new"])
    assert _parse(v1, conf).incident_id == "inc-1"
    assert signing.keyring_from_conf(conf).key_ids == ("default", "new")
    assert _reason(v1, _conf(signing_keys=["new:s3cret-new"])).reason == "unknown_key"


def test_key_file_and_producer_key_id(tmp_path):
    path = tmp_path / "keys"
    path.write_text("# rotation 2026\nk2026:file-secret\n\n")
    conf = _conf(signing_key_file=str(path), signing_key_id="k2026")
    key_id, secret = signing.keyring_from_conf(conf).signing_key()
    assert (key_id, secret) == ("k2026", "file-secret")
    signed = hd.sign_payload(_build(), signing.keyring_from_conf(conf))
    assert _parse(signed, conf).source == "ocf"


@pytest.mark.parametrize("opts, needle", [
    ({}, "no signing key"),
    ({"signing_keys": ["bad id:x"]}, "entry 1"),
    ({"signing_keys": ["a:x", "a:y"]}, "given twice"),
    ({"signing_keys": ["a:x"], "signing_key_id": "b"}, "signing_key_id 'b'"),
    ({"signing_key_file": "/nonexistent/keys"}, "cannot read"),
])
def test_bad_or_missing_keys_are_one_clear_error_without_secret(opts, needle):
    with pytest.raises(ValueError) as info:
        signing.keyring_from_conf(_conf(**opts))
    assert needle in str(info.value)
    assert "x" not in str(info.value).split("entry")[-1][:3]


def test_allow_unsigned_permits_no_key():
    assert signing.keyring_from_conf(_conf(allow_unsigned=True)).key_ids == ()


def test_clock_and_signature_failures_are_unjudged_others_are_not():
    conf = _conf(signing_key=SECRET)
    future = _build(signing_key=SECRET, sent_at=T0 + dt.timedelta(seconds=120))
    assert (_reason(future, conf).reason, _reason(future, conf).unjudged) == ("clock", True)
    assert _reason(_build(signing_key="other"), conf).unjudged
    assert not hd.InvalidHostDown("malformed", "x").unjudged


def test_listener_refuses_to_start_without_key(monkeypatch, capsys):
    conf = _conf()
    real = listener_service.ListenerService

    class Fake(real):
        def __init__(self, conf):
            real.__init__(self, conf, mistral=object(), dead_letters=object())

    monkeypatch.setattr(listener_service, "prepare_service", lambda argv: conf)
    monkeypatch.setattr(listener_service, "ListenerService", Fake)
    assert listener_cmd.main() == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert err == ["host-recovery-listener: configuration: no signing key: set [host_down] "
                   "signing_key, signing_keys or signing_key_file (or allow_unsigned = true "
                   "on a trusted broker)"]


def test_listener_exports_its_key_ids_never_secrets():
    conf = _conf(signing_key=SECRET, signing_keys=["new:s3cret-new"])
    daemon = listener_service.ListenerService(conf, mistral=object(), dead_letters=object())
    get = daemon.metrics.registry.get_sample_value
    assert get("host_recovery_signing_key_info", {"key_id": "new"}) == 1
    assert get("host_recovery_signing_key_info", {"key_id": "default"}) == 1


def test_agent_refuses_to_publish_unsigned(tmp_path, capsys, monkeypatch):
    conf_file = tmp_path / "c.conf"
    conf_file.write_text("[publisher]\ntransport_url = rabbit://u:p@h:5672/\n")
    monkeypatch.setattr(agent_service, "make_publisher", lambda conf: pytest.fail("published"))
    assert notify.main(["--host", "compute-1", "--config-file", str(conf_file)]) == 1
    assert "no signing key" in capsys.readouterr().err


def test_agent_signs_with_its_key_id():
    conf = cfg.ConfigOpts()
    hd_conf.register_opts(conf)
    agent_service.agents_conf.register_opts(conf)
    conf([])
    conf.set_override("signing_keys", ["new:s3cret-new"], group="host_down")
    conf.set_override("signing_key_id", "new", group="host_down")
    sent = []

    class Pub:
        def publish(self, payload, **kw):
            sent.append(payload())
            return "m-1"

    agent_service.send_host_down(conf, "compute-1", incident_id="inc-1", failure_time=T0,
                                 fencing_confirmed=False, source="cli", publisher=Pub())
    assert sent[0]["key_id"] == "new"
    assert hd.parse_with_conf(sent[0], conf).host == "compute-1"
