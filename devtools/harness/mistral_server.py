"""Run every Mistral service as threads of ONE process (engine, executor, notifier, periodic, API).

This file runs under Mistral's own interpreter (its virtualenv), not ours: it imports only
Mistral and oslo. ``mistral-server --server all`` would fork seven processes and its master
hangs on SIGTERM; one process starts in ~3 s and dies cleanly.

    python mistral_server.py --config-file mistral.conf            # serve
    python mistral_server.py --config-file mistral.conf --init-db  # create the SQLite schema
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


def _serve() -> None:
    from mistral.api import service as api_service
    from mistral.engine import engine_server
    from mistral.executors import executor_server
    from mistral.notifiers import notification_server
    from mistral.rpc import base as rpc
    from mistral.services import periodic_server
    from oslo_service import service

    logging.setup(cfg.CONF, "Mistral")
    rpc.get_transport()
    launcher = service.ServiceLauncher(cfg.CONF)
    for server in (
        engine_server.get_oslo_service(),
        executor_server.get_oslo_service(),
        notification_server.get_oslo_service(),
        periodic_server.get_oslo_service(),
        api_service.WSGIService("mistral_api"),
    ):
        launcher.launch_service(server)
    # oslo's graceful shutdown can wait forever on RPC servers; a test harness needs a
    # prompt, certain exit, and Mistral's DB is the truth across restarts anyway.
    signal.signal(signal.SIGTERM, lambda *_: os._exit(0))
    launcher.wait()


def main() -> None:
    from mistral import config

    init_db = "--init-db" in sys.argv
    args = [a for a in sys.argv[1:] if a != "--init-db"]
    cfg.CONF.register_cli_opts(config.CLI_OPTS)
    config.parse_args(args)
    if init_db:
        _init_db()
    else:
        _serve()


if __name__ == "__main__":
    main()
