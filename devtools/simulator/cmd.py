"""``host-recovery-simulator``: run the Nova + Keystone simulator until SIGTERM.

    host-recovery-simulator --scenario scenario.yaml --transport-url rabbit://... \
        --ready-file /tmp/sim.json
"""

from __future__ import annotations

import notifications.quiet  # noqa: F401  # isort: skip  (first: see notifications/quiet.py)
import argparse
import json
import logging
import os
import signal
import threading
from pathlib import Path
from typing import Any

from simulator.scenario import Scenario
from simulator.service import Simulator

LOG = logging.getLogger("simulator")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Command line: a scenario file and/or flags that override it."""
    parser = argparse.ArgumentParser(prog="host-recovery-simulator", description=__doc__)
    parser.add_argument("--scenario", type=Path, help="YAML or JSON scenario file")
    parser.add_argument("--scenario-json", help="scenario overrides as a JSON object")
    parser.add_argument("--hosts", type=int)
    parser.add_argument("--vms-per-host", type=int)
    parser.add_argument("--service-down-time", type=float)
    parser.add_argument("--report-interval", type=float,
                        help="seconds between a live service's heartbeats (Nova: 10)")
    parser.add_argument("--seed", type=int)
    parser.add_argument("--transport-url", default=os.environ.get("SIMULATOR_TRANSPORT_URL"),
                        help="oslo.messaging URL for Nova's notifications (none: not sent)")
    parser.add_argument("--bind", default="127.0.0.1")
    for name in ("identity", "compute", "image", "placement", "control"):
        parser.add_argument(f"--{name}-port", type=int, default=0, help="0: any free port")
    parser.add_argument("--threads", type=int, default=16, help="HTTP threads per API")
    parser.add_argument("--ready-file", type=Path, help="write the URLs here when serving")
    parser.add_argument("--log-level", default="INFO")
    return parser.parse_args(argv)


def build_scenario(args: argparse.Namespace) -> Scenario:
    """File, then --scenario-json, then individual flags."""
    overrides: dict[str, Any] = json.loads(args.scenario_json) if args.scenario_json else {}
    for flag, key in (("hosts", "hosts"), ("vms_per_host", "vms_per_host"),
                      ("service_down_time", "service_down_time"), ("seed", "seed"),
                      ("report_interval", "report_interval")):
        if getattr(args, flag) is not None:
            overrides[key] = getattr(args, flag)
    if args.scenario is not None:
        return Scenario.from_file(args.scenario, overrides)
    return Scenario.from_dict(overrides)


def main(argv: list[str] | None = None) -> int:
    """Serve until SIGTERM or SIGINT, then stop cleanly."""
    args = parse_args(argv)
    logging.basicConfig(level=args.log_level,
                        format="%(asctime)s %(levelname)s %(name)s %(message)s")
    sim = Simulator(build_scenario(args), transport_url=args.transport_url, bind=args.bind,
                    ports={n: getattr(args, f"{n}_port") for n in
                           ("identity", "compute", "image", "placement", "control")},
                    threads=args.threads)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    sim.start()
    urls = sim.urls()
    LOG.info("simulator serving: %s", json.dumps(urls))
    if args.ready_file is not None:
        # Write then rename: a reader never sees a half-written file.
        tmp = args.ready_file.with_suffix(".tmp")
        tmp.write_text(json.dumps({"pid": os.getpid(), "urls": urls}))
        tmp.replace(args.ready_file)
    stop.wait()
    LOG.info("stopping")
    sim.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
