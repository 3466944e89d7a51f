"""Run every Mistral service as threads of ONE process (engine, executor, notifier, periodic, API).

This file runs under Mistral's own interpreter (its virtualenv), not ours: it imports only
Mistral and oslo. ``mistral-server --server all`` would fork seven processes and its master
hangs on SIGTERM; one process starts in ~3 s and dies cleanly.

    python mistral_server.py --config-file mistral.conf            # serve
    python mistral_server.py --config-file mistral.conf --init-db  # create the SQLite schema
    python mistral_server.py --config-file mistral.conf --services engine --ready-file F

``--services`` (comma-separated: api, engine, executor, notifier, periodic) runs only those,
for the multi-process topology; ``--ready-file`` is written once every service has started.
"""

import os
import signal
import sys

from oslo_config import cfg
from oslo_log import log as logging


def _init_db() -> None:
    # alembic cannot ALTER SQLite constraints, so create the tables from the models;
    # the caller then runs `mistral-db-manage stamp head` and `populate`.
    from mistral.db.v2 import api as db_api

    db_api.setup_db()


SERVICES = ("engine", "executor", "notifier", "periodic", "api")


def _option(name: str, default: str) -> str:
    """The value after ``name`` on the command line (our own options, not oslo's)."""
    return sys.argv[sys.argv.index(name) + 1] if name in sys.argv else default


def _build(name: str):  # type: ignore[no-untyped-def]
    from mistral.api import service as api_service
    from mistral.engine import engine_server
    from mistral.executors import executor_server
    from mistral.notifiers import notification_server
    from mistral.services import periodic_server

    if name == "api":
        return api_service.WSGIService("mistral_api")
    return {"engine": engine_server, "executor": executor_server,
            "notifier": notification_server, "periodic": periodic_server}[name] \
        .get_oslo_service()


def _serve(services: list[str], ready_file: str) -> None:
    import threading

    from mistral.rpc import base as rpc
    from oslo_service import service

    logging.setup(cfg.CONF, "Mistral")
    rpc.get_transport()
    launcher = service.ServiceLauncher(cfg.CONF)
    pending = set(services)
    lock = threading.Lock()
    for name in services:
        server = _build(name)
        original = server.start

        def start(original=original, name=name):  # type: ignore[no-untyped-def]
            original()
            with lock:  # the ready file says every requested service has started
                pending.discard(name)
                if ready_file and not pending:
                    with open(ready_file, "w") as out:
                        out.write(",".join(services))

        server.start = start
        launcher.launch_service(server)
    # oslo's graceful shutdown can wait forever on RPC servers; a test harness needs a
    # prompt, certain exit, and Mistral's DB is the truth across restarts anyway.
    signal.signal(signal.SIGTERM, lambda *_: os._exit(0))
    launcher.wait()


def main() -> None:
    from mistral import config

    init_db = "--init-db" in sys.argv
    services = [s for s in _option("--services", ",".join(SERVICES)).split(",") if s]
    ready_file = _option("--ready-file", "")
    args, skip = [], False
    for arg in sys.argv[1:]:
        if skip or arg == "--init-db":
            skip = False
            continue
        if arg in ("--services", "--ready-file"):
            skip = True
            continue
        args.append(arg)
    cfg.CONF.register_cli_opts(config.CLI_OPTS)
    config.parse_args(args)
    if init_db:
        _init_db()
    else:
        _serve(services, ready_file)


if __name__ == "__main__":
    main()
