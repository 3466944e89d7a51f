"""Masakari 22's own host-failure flow, in-process, against a Keystone + Nova (the bench's peer).

Runs inside Masakari's virtualenv (``.venv-masakari``), never in ours::

    .venv-masakari/bin/python masakari_driver.py --auth-url URL --host compute1 \
        --threads 10 --wait 0 --workdir DIR

Unchanged Masakari code: ``TaskFlowDriver().execute_host_failure(ctx, host, "auto", uuid)``
with its options set as an operator would in masakari.conf. Once imported and configured it
prints ``{"ready": true}`` and waits for a line on stdin (the bench fails the host, then
writes it: Masakari's engine is a running service, its start-up is not recovery time); then
prints ``{"ended_at": epoch, "seconds": ..., "ok": bool, "error": str | null}``.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
import time
import uuid
from pathlib import Path


def _parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--auth-url", required=True, help="Keystone v3 URL")
    parser.add_argument("--host", required=True, help="the failed compute host")
    parser.add_argument("--threads", type=int, default=3,
                        help="host_failure_recovery_threads (Masakari's default 3)")
    parser.add_argument("--wait", type=int, default=180,
                        help="wait_period_after_service_update (Masakari's default 180 s)")
    parser.add_argument("--workdir", type=Path, required=True, help="TaskFlow's SQLite here")
    parser.add_argument("--user", default="admin")
    parser.add_argument("--password", default="secret")
    parser.add_argument("--project", default="admin")
    return parser.parse_args(argv)


def _configure(args: argparse.Namespace) -> None:
    """A masakari.conf as an operator would write it, then TaskFlow's tables."""
    from masakari import config

    connection = f"sqlite:///{args.workdir / 'taskflow.sqlite'}"
    conf_file = args.workdir / "masakari.conf"
    conf_file.write_text(
        "[DEFAULT]\n"
        f"os_privileged_user_name = {args.user}\n"
        f"os_privileged_user_password = {args.password}\n"
        f"os_privileged_user_tenant = {args.project}\n"
        f"os_privileged_user_auth_url = {args.auth_url}\n"
        f"host_failure_recovery_threads = {args.threads}\n"
        f"wait_period_after_service_update = {args.wait}\n"
        "[keystone_authtoken]\nauth_type = password\n"
        f"[taskflow]\nconnection = {connection}\n"
        f"[database]\nconnection = sqlite:///{args.workdir / 'masakari.sqlite'}\n")
    config.parse_args([sys.argv[0], "--config-file", str(conf_file)], init_rpc=False)
    from masakari import objects
    from masakari.db import migration
    from taskflow.persistence import backends

    objects.register_all()
    # What `masakari-manage db sync` does: Masakari's tables (its flow records each VM
    # move there), then TaskFlow's persistence tables.
    migration.db_sync()
    backend = backends.fetch({"connection": connection})
    with contextlib.closing(backend.get_connection()) as conn:
        conn.upgrade()


def main(argv: list[str] | None = None) -> int:
    """Run one host-failure recovery; 0 when Masakari reported success."""
    args = _parse(sys.argv[1:] if argv is None else argv)
    args.workdir.mkdir(parents=True, exist_ok=True)
    _configure(args)
    from masakari import context
    from masakari.engine.drivers.taskflow import driver

    ctx = context.get_admin_context()
    flow = driver.TaskFlowDriver()
    print(json.dumps({"ready": True}), flush=True)
    sys.stdin.readline()
    started = time.monotonic()
    error = None
    try:
        flow.execute_host_failure(ctx, args.host, "auto", str(uuid.uuid4()))
    except Exception as exc:  # the bench reports it; Masakari's engine would log it
        error = f"{type(exc).__name__}: {exc}"
    print(json.dumps({"ended_at": time.time(), "seconds": time.monotonic() - started,
                      "ok": error is None,
                      "error": error}), flush=True)
    return 0 if error is None else 1


if __name__ == "__main__":
    sys.exit(main())
