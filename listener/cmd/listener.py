"""``host-recovery-listener``: consume host-downs and start recoveries (every controller)."""

import notifications.quiet  # noqa: F401  # isort: skip  (first: see notifications/quiet.py)
import sys

from oslo_log import log as logging

from listener import service
from listener.workflow_check import WorkflowProblem

LOG = logging.getLogger(__name__)


def main() -> int:
    conf = service.prepare_service(sys.argv[1:])
    try:
        daemon = service.ListenerService(conf)
    except ValueError as exc:  # a bad option value (transport_url...): say it, no traceback
        print(f"host-recovery-listener: configuration: {exc}", file=sys.stderr)
        return 1
    try:
        daemon.run()
    except (service.StartupError, WorkflowProblem) as exc:
        LOG.error("Refusing to start: %s", exc)
        print(f"host-recovery-listener: refusing to start: {exc}", file=sys.stderr)
        return 1
    return 0
