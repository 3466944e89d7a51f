"""Nova's service heartbeat, computed from the clock instead of a timer per service.

A running service's report loop (``report_interval``, Nova's default 10 s) saves its row
every interval: ``updated_at`` and ``last_seen_up`` move to the report time and
``report_count`` grows. Any other save (disable, force-down) moves ``updated_at`` only.
Here a service keeps when its reporting started and stopped, and the last report is the
latest whole interval since that start: no thread, cheap for a thousand hosts.
"""

from __future__ import annotations

import math

from simulator.model import Service


def _reports(service: Service, now: float, interval: float) -> int:
    """Reports made since reporting (re)started; the first one at the start itself."""
    end = now if service.stopped_reporting is None else min(now, service.stopped_reporting)
    if end < service.reporting_since or interval <= 0:
        return 1
    return 1 + math.floor((end - service.reporting_since) / interval)


def last_report(service: Service, now: float, interval: float) -> float:
    """Wall time of the last heartbeat (Nova's ``last_seen_up``)."""
    return service.reporting_since + (_reports(service, now, interval) - 1) * max(interval, 0.0)


def report_count(service: Service, now: float, interval: float) -> int:
    """Nova's ``report_count``: every heartbeat of every run so far."""
    return service.reports_before + _reports(service, now, interval)


def updated_at(service: Service, now: float, interval: float) -> float:
    """Nova's ``updated_at``: the later of the last heartbeat and the last other save."""
    return max(service.written_at, last_report(service, now, interval))


def stop(service: Service, now: float) -> None:
    """The service stops reporting (its host died); its reports so far stay counted."""
    if service.stopped_reporting is None:
        service.stopped_reporting = now


def restart(service: Service, now: float, interval: float) -> None:
    """The service starts again: it saves its row at once and reports every interval."""
    service.reports_before = report_count(service, now, interval)
    service.reporting_since = now
    service.stopped_reporting = None
    service.written_at = now


def rebase(service: Service, now: float, interval: float) -> None:
    """Before the interval changes: the new pace counts from the last report."""
    if service.stopped_reporting is None:
        last = last_report(service, now, interval)
        service.reports_before = report_count(service, now, interval) - 1
        service.reporting_since = last


def save(service: Service, now: float) -> None:
    """A save other than a heartbeat (``Service.save()`` after an API update)."""
    service.written_at = now
